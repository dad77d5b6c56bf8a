-- Traces (ADR 0016): the traceparent of the consumer span that recorded the intent, so that the
-- dispatcher sends it, later and in another task, in a span of the same trace. Null when tracing
-- is off.
alter table notifications add column if not exists traceparent text;
