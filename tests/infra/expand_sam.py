"""Expand a SAM template into the plain CloudFormation that AWS deploys, offline.

Run with the SAM CLI's interpreter (it needs `samcli` and `samtranslator`):

    .venv-sam/bin/python tests/infra/expand_sam.py template.yaml expanded.json

Why: cfn-lint ≥ 1.54 validates AWS::Serverless::* resources against SAM's own schema instead of
expanding them, and `sam validate --lint` runs that same cfn-lint. Neither notices a function with
a runtime Lambda does not have or a `!Ref` to nothing inside a serverless resource. Linting the
expanded template does, because every AWS::Lambda::Function property is checked against the
CloudFormation schema there. Managed-policy names are not resolved (that needs IAM); the template
uses inline statements only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# samcli lives in .venv-sam only (this file runs there); the project venv's mypy cannot see it.
from samcli.commands.validate.lib.exceptions import InvalidSamDocumentException  # type: ignore[import-not-found]
from samcli.lib.translate.sam_template_validator import SamTemplateValidator  # type: ignore[import-not-found]
from samcli.yamlhelper import yaml_parse  # type: ignore[import-not-found]


class NoManagedPolicies:
    """Stands in for the IAM-backed loader: a template naming a managed policy fails loudly."""

    def load(self) -> dict[str, str]:
        return {}


def expand(template_path: Path) -> dict[str, Any]:
    template = yaml_parse(template_path.read_text("utf-8"))
    validator = SamTemplateValidator(template, NoManagedPolicies(), region="eu-central-1")
    expanded: dict[str, Any] = yaml_parse(validator.get_translated_template_if_valid())
    return expanded


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} TEMPLATE OUTPUT.json", file=sys.stderr)
        return 2
    try:
        expanded = expand(Path(argv[1]))
    except InvalidSamDocumentException as error:
        print(f"{argv[1]}: not a valid SAM template: {error}", file=sys.stderr)
        return 1
    Path(argv[2]).write_text(json.dumps(expanded, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
