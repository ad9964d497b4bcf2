"""The Python front door and the Rust side build the same query: the SQL below is also
asserted by chakra/tests/lookups_vs_ir.rs for IR built directly in Rust (as the typed DSL
lowers it); that test also checks expressions and rows on both backends."""

from __future__ import annotations

from models import User

SEED_QUERY_PG = (
    'SELECT "users"."id", "users"."username", "users"."email", "users"."created_at", '
    '"users"."is_active", "users"."balance" FROM "users" WHERE ("users"."username" LIKE $1 '
    'ESCAPE \'\\\') AND ("users"."is_active" = $2) ORDER BY "users"."created_at" DESC '
    "LIMIT $3"
)


def test_seed_query_compiles_to_the_rust_sides_sql() -> None:
    qs = User.objects.filter(username__startswith="a", is_active=True)
    assert qs.order_by("-created_at").limit(10).sql("postgres") == SEED_QUERY_PG
    assert "kind: StartsWith" in qs.ir() and "Bool(true)" in qs.ir()
