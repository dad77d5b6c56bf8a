
-- Search of the caseload by name or dossier reference (projections.CaseloadProjection): the
-- members' references and names, in lowercase Latin letters (anyascii), for the region's coaches.
alter table caseload add column if not exists search text not null default '';
