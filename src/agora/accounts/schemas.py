from ninja import Schema
from pydantic import Field


class RegisterIn(Schema):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    name: str = Field(max_length=150)


class UserOut(Schema):
    id: int
    email: str
    name: str
    roles: list[str]


class MeOut(UserOut):
    vendor_ids: list[int]


class TokenIn(Schema):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
