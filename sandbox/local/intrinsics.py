"""Resolve CloudFormation intrinsic functions to the local stack's values.

Only what a SAM template for Lambda functions needs: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select,
Fn::If (with Conditions built from Equals/Not/And/Or), Fn::Split. A reference to a resource the
sandbox does not emulate (a Secrets Manager secret, an alarm) resolves to `None`, which drops the
value: locally those things are replaced by plain settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"
STACK_NAME = "sandbox"

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass(frozen=True)
class LocalResource:
    """What `!Ref X` and `!GetAtt X.<attr>` mean for one resource in the local stack."""

    ref: str | None
    attributes: Mapping[str, str] = field(default_factory=dict)


class UnresolvableError(ValueError):
    """The template uses an intrinsic the sandbox cannot evaluate."""


@dataclass
class Resolver:
    region: str
    resources: dict[str, LocalResource] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)  # the template's Parameters section
    conditions: Mapping[str, Any] = field(default_factory=dict)
    parameter_values: Mapping[str, str] = field(default_factory=dict)  # overrides of parameter defaults

    def pseudo(self, name: str) -> str | None:
        table: dict[str, Callable[[], str | None]] = {
            "AWS::Region": lambda: self.region,
            "AWS::AccountId": lambda: ACCOUNT_ID,
            "AWS::StackName": lambda: STACK_NAME,
            "AWS::StackId": lambda: (
                f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{STACK_NAME}/local"
            ),
            "AWS::Partition": lambda: "aws",
            "AWS::URLSuffix": lambda: "amazonaws.com",
            "AWS::NoValue": lambda: None,
        }
        if name not in table:
            raise UnresolvableError(f"unknown pseudo parameter {name}")
        return table[name]()

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameter_values:
            return self.parameter_values[name]
        if name in self.parameters:
            return self.parameters[name].get("Default")
        if name in self.resources:
            return self.resources[name].ref
        raise UnresolvableError(f"!Ref {name}: no such parameter or resource")

    def get_att(self, name: str, attribute: str) -> Any:
        if name not in self.resources:
            raise UnresolvableError(f"!GetAtt {name}.{attribute}: no such resource")
        return self.resources[name].attributes.get(attribute)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise UnresolvableError(f"condition {name} is not defined")
        return self._truth(self.conditions[name])

    def _truth(self, node: Any) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            (key, value), *_ = node.items()
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in value)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._truth(value[0])
            if key == "Fn::And":
                return all(self._truth(v) for v in value)
            if key == "Fn::Or":
                return any(self._truth(v) for v in value)
            if key == "Condition":
                return self.condition(value)
        return bool(self.resolve(node))

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str | None:
        missing = False

        def replace(match: re.Match[str]) -> str:
            nonlocal missing
            name = match.group(1).strip()
            if name in variables:
                value = self.resolve(variables[name])
            elif "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                value = self.get_att(resource, attribute)
            else:
                value = self.ref(name)
            if value is None:
                missing = True
                return ""
            return str(value)

        result = _SUB_PLACEHOLDER.sub(replace, text).replace("${!", "${")
        return None if missing else result

    def resolve(self, node: Any) -> Any:
        """Evaluate `node` (any template value); `None` means "no local value"."""
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {key: self.resolve(value) for key, value in node.items()}
        (key, value), *_ = node.items()
        match key:
            case "Ref":
                return self.ref(value)
            case "Fn::GetAtt":
                name, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(name, attribute)
            case "Fn::Sub":
                if isinstance(value, list):
                    return self._sub(value[0], value[1])
                return self._sub(value, {})
            case "Fn::Join":
                separator, items = value
                parts = [self.resolve(item) for item in self.resolve_list(items)]
                return None if any(p is None for p in parts) else separator.join(str(p) for p in parts)
            case "Fn::Select":
                index, items = value
                return self.resolve_list(items)[int(self.resolve(index))]
            case "Fn::Split":
                separator, text = value
                resolved = self.resolve(text)
                return None if resolved is None else str(resolved).split(separator)
            case "Fn::If":
                name, when_true, when_false = value
                return self.resolve(when_true if self.condition(name) else when_false)
            case "Fn::ImportValue" | "Fn::FindInMap" | "Fn::GetAZs" | "Fn::Base64" | "Fn::Cidr":
                raise UnresolvableError(f"{key} is not supported by the local stack")
            case _:
                return {key: self.resolve(value)}

    def resolve_list(self, node: Any) -> list[Any]:
        resolved = self.resolve(node)
        if not isinstance(resolved, list):
            raise UnresolvableError(f"expected a list, got {resolved!r}")
        return resolved
