-- Traces through the outbox (ADR 0016): an outbox row keeps the W3C `traceparent` of the span that
-- appended its event, so that the relay, later and in another task, publishes the record in a
-- child span and puts that span's context in the record's headers. Null when tracing is off or no
-- trace ran (a timer without one, a republished row); the row is deleted once published.
alter table outbox add column if not exists traceparent text;

-- kernel_append with the appending span's traceparent; the body is 0001's, the outbox insert
-- aside. The eleven-argument form stays, for a replica still running the code before this one.
create or replace function kernel_append(
    p_stream text, p_expected integer, p_topic text,
    p_ids uuid[], p_types text[], p_versions integer[], p_data jsonb[], p_actors jsonb[],
    p_correlations text[], p_causations text[], p_occurred timestamptz[], p_traceparent text
) returns table (global_position bigint, stream_version integer, recorded_at timestamptz,
                 occurred_at timestamptz)
language plpgsql as $$
declare
    v_current integer;
    v_count   integer := cardinality(p_ids);
    v_done    integer;
begin
    if p_expected is null then
        -- "any": serialise appenders of this stream so that they do not conflict with each other
        perform pg_advisory_xact_lock(hashtextextended(p_stream, 0));
    end if;
    select coalesce(max(e.stream_version), 0) into v_current from events e where e.stream_id = p_stream;
    if p_expected is not null and v_current <> p_expected then
        raise exception 'wrong expected version for stream %', p_stream
            using errcode = 'IC409', detail = v_current::text;
    end if;
    return query
    with ins as (
        insert into events as e (stream_id, stream_version, event_id, event_type, event_version, data,
                                 actor, correlation_id, causation_id, occurred_at)
        select p_stream, v_current + t.n::integer, t.id, t.typ, t.ver, t.dat, t.act, t.cor, t.cau,
               coalesce(t.occ, now())
        from unnest(p_ids, p_types, p_versions, p_data, p_actors, p_correlations, p_causations,
                    p_occurred) with ordinality as t(id, typ, ver, dat, act, cor, cau, occ, n)
        order by t.n
        -- a concurrent writer that took the same version first wins; we then fail below
        on conflict on constraint events_stream_id_stream_version_key do nothing
        returning e.global_position, e.stream_version, e.recorded_at, e.occurred_at
    ), ob as (
        insert into outbox (position, topic, traceparent)
        select i.global_position, p_topic, p_traceparent from ins i
    )
    select i.global_position, i.stream_version, i.recorded_at, i.occurred_at
    from ins i order by i.stream_version;
    get diagnostics v_done = row_count;
    if v_done < v_count then
        select coalesce(max(e.stream_version), 0) into v_current from events e where e.stream_id = p_stream;
        raise exception 'concurrent append to stream %', p_stream
            using errcode = 'IC409', detail = v_current::text;
    end if;
end
$$;

create or replace function kernel_append(
    p_stream text, p_expected integer, p_topic text,
    p_ids uuid[], p_types text[], p_versions integer[], p_data jsonb[], p_actors jsonb[],
    p_correlations text[], p_causations text[], p_occurred timestamptz[]
) returns table (global_position bigint, stream_version integer, recorded_at timestamptz,
                 occurred_at timestamptz)
language sql as $$
    select * from kernel_append(p_stream, p_expected, p_topic, p_ids, p_types, p_versions, p_data,
                                p_actors, p_correlations, p_causations, p_occurred, null::text)
$$;
