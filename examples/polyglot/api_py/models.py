"""The tables the Python service and worker use (the repository's ``migrations/`` create
them; ``examples/polyglot/api-rs`` declares the same ones in Rust)."""

from __future__ import annotations

from chakra import NOW, BigInteger, Boolean, DateTime, Field, Model, String


class User(Model):
    __tablename__ = "users"

    id = Field(BigInteger, primary_key=True)
    username = Field(String(50), unique=True)
    email = Field(String(255), default="")
    created_at = Field(DateTime, default=NOW)
    is_active = Field(Boolean, default=True)
    balance = Field(BigInteger, default=0)


class Post(Model):
    __tablename__ = "posts"

    id = Field(BigInteger, primary_key=True)
    author_id = Field(BigInteger)
    title = Field(String(200))
