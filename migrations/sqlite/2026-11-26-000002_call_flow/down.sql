DROP TABLE call_events;
DROP TABLE call_legs;
DROP TABLE calls;
DROP TABLE buyer_load;
