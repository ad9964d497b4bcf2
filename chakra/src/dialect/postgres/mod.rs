//! PostgreSQL's room: its connections, pool setup, cancel requests and pooler support.
