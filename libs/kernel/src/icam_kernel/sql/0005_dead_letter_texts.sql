-- Dead letters recorded before their texts were redacted (ADR 0014) may quote the input that
-- failed, personal data included: their messages are withheld. The record itself (value, key,
-- headers) is kept for replay, which shows the error again, redacted.
update dead_letters
   set error_message = error_type || ': message withheld (recorded before dead-letter texts were redacted; replay to see it again)';
