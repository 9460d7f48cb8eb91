"""Render docs/API.md from the OpenAPI document, so the reference never drifts from the code.

    python -m api.apidocs > docs/API.md      (a test fails when the file is out of date)
"""

from __future__ import annotations

import json
from typing import Any

from api.main import create_app
from vidassets.settings import Settings


def _schema_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"[{_schema_name(schema['$ref'])}](#{_schema_name(schema['$ref']).lower()})"
    if "anyOf" in schema:
        return " \\| ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    return str(schema.get("type", "any"))


def render(spec: dict[str, Any]) -> str:
    lines = [f"# {spec['info']['title']} HTTP API (v{spec['info']['version']})", "",
             "Generated from the OpenAPI document (`GET /openapi.json`) by `python -m api.apidocs`.", "",
             spec["info"].get("description", ""), "",
             "Errors are JSON `{\"error\", \"code\", \"details\"?}` with the matching status code. Every error "
             "code, the webhook payload and its signatures, the rate and size limits and the log line format are "
             "in [OPERATIONS.md](OPERATIONS.md).", "",
             "Today's TypeScript SDK (`@synthome/sdk`): what it may send and which of its operations are "
             "supported, and which not yet, is in [TYPESCRIPT_SDK.md](TYPESCRIPT_SDK.md).", ""]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            lines += [f"## `{method.upper()} {path}`", "", op.get("summary", ""), ""]
            if op.get("description"):
                lines += [op["description"].strip(), ""]
            params = op.get("parameters", [])
            if params:
                lines += ["| parameter | in | type | required |", "|---|---|---|---|"]
                for p in params:
                    lines.append(f"| `{p['name']}` | {p['in']} | {_type(p.get('schema', {}))} | {p.get('required', False)} |")
                lines.append("")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                lines += [f"Request body: {_type(body)}", ""]
            lines += ["| status | body |", "|---|---|"]
            for status, resp in op.get("responses", {}).items():
                schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
                lines.append(f"| {status} | {_type(schema) if schema else resp.get('description', '')} |")
            lines.append("")
    lines += ["## Schemas", ""]
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        lines += [f"### {name}", ""]
        props = schema.get("properties", {})
        if props:
            required = set(schema.get("required", []))
            lines += ["| field | type | required | description |", "|---|---|---|---|"]
            for field, fs in props.items():
                desc = (fs.get("description") or "").replace("\n", " ")
                lines.append(f"| `{field}` | {_type(fs)} | {field in required} | {desc} |")
        else:
            lines.append(f"```json\n{json.dumps(schema, indent=2)}\n```")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(render(create_app(Settings(data_dir=tmp)).openapi()), end="")


if __name__ == "__main__":
    main()
