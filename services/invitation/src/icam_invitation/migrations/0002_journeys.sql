-- The household's journey now lives in the kernel's `journeys` table (every service has one):
-- carry the journeys known so far over, then drop the service's own copy.
insert into journeys (household_id, correlation_id, first_seen_at)
select household_id, correlation_id, first_seen_at from households
on conflict (household_id) do nothing;
drop table households;
