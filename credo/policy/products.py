"""Partner products as a policy file (SPEC S7): who qualifies for what on which terms, and why.

``policies/products.yaml`` lists products; each names the consent purpose a partner must hold
to ask about it, its score rules (the first rule the score reaches wins, else the default) and
whether it is restricted while the person is on the court list (SPEC S6). Like scoring
policies, every problem is a ``ConfigError`` naming the file and the key, and every decision
records the file's name and version.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from credo.errors import ConfigError, NotFoundError
from credo.policy.schema import config_error, policy_dirs, read_yaml_document
from credo.purposes import PURPOSES

__all__ = [
    "Offer",
    "Product",
    "ProductRule",
    "ProductsPolicy",
    "load_products",
]

Outcome = Literal["approved", "declined"]
TermValue = int | float | str | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offer(_Strict):
    outcome: Outcome
    terms: dict[str, TermValue] = {}
    reason: str = Field(min_length=1)


class ProductRule(Offer):
    min_score: int = Field(ge=0)


class Product(_Strict):
    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    purpose: str
    restricted: bool = False
    rules: list[ProductRule] = []
    default: Offer

    @model_validator(mode="after")
    def _check(self) -> Product:
        if self.purpose not in PURPOSES:
            raise ValueError(f"purpose: {self.purpose!r} is not one of {list(PURPOSES)}")
        floors = [r.min_score for r in self.rules]
        if floors != sorted(floors, reverse=True):
            raise ValueError("rules: min_score must decrease (the first rule reached wins)")
        return self

    def offer(self, score: float) -> Offer:
        for rule in self.rules:
            if score >= rule.min_score:
                return rule
        return self.default


class ProductsPolicy(_Strict):
    kind: Literal["products"]
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    products: list[Product] = Field(min_length=1)
    digest: str = ""

    @model_validator(mode="after")
    def _unique(self) -> ProductsPolicy:
        seen: set[str] = set()
        for i, p in enumerate(self.products):
            if p.name in seen:
                raise ValueError(f"products[{i}].name: {p.name!r} appears twice")
            seen.add(p.name)
        return self

    def product(self, name: str) -> Product:
        for p in self.products:
            if p.name == name:
                return p
        raise NotFoundError(
            f"no product {name!r}", hint="one of " + ", ".join(p.name for p in self.products)
        )


def load_products(name: str | Path = "products") -> ProductsPolicy:
    """Read and check a products file by path or by name in the policy folders."""
    path = Path(name)
    if path.suffix not in (".yaml", ".yml") and not path.exists():
        found = [d / f"{name}.yaml" for d in policy_dirs() if (d / f"{name}.yaml").exists()]
        if not found:
            raise ConfigError(f"no products policy named {str(name)!r}")
        path = found[0]
    raw, document = read_yaml_document(path, "products")
    document["digest"] = "sha256:" + hashlib.sha256(raw).hexdigest()[:16]
    try:
        return ProductsPolicy.model_validate(document)
    except ValidationError as exc:
        raise config_error(exc, "products", path) from None
