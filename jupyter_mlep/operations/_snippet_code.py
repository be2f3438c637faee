"""The client programs ``%endpoint snippet`` writes, one function per language in :data:`LANGUAGES`.

Each program posts one JSON request to the scoring URI with ``Authorization: Bearer`` and the
secret read from an environment variable (never the secret itself), optionally pins a deployment
with the ``azureml-model-deployment`` header, prints the answer, and on failure prints the status,
the body and the request id and exits with status 1. Python uses only its standard library,
JavaScript Node 18's ``fetch``, C# .NET 6's ``HttpClient``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..rest import DEPLOYMENT_HEADER

__all__ = ["LANGUAGES", "SnippetInputs"]


@dataclass(frozen=True)
class SnippetInputs:
    """What a program needs: where, which secret variable (and how to set it), what to send."""

    endpoint: str
    scoring_uri: str
    variable: str
    how: str
    request: Any
    deployment: str | None = None

    @property
    def body(self) -> str:
        """The request as indented JSON."""
        return json.dumps(self.request, indent=2)


def _python(i: SnippetInputs) -> str:
    pin = f'    "{DEPLOYMENT_HEADER}": {json.dumps(i.deployment)},\n' if i.deployment else ""
    return f'''"""Score endpoint {i.endpoint!r} once and print the answer.

Set {i.variable} first (never write the secret into code):
    {i.how}
"""

import json
import os
import sys
import urllib.error
import urllib.request

SCORING_URI = {json.dumps(i.scoring_uri)}
SECRET = os.environ.get({json.dumps(i.variable)})
if not SECRET:
    sys.exit("Set {i.variable} to the endpoint's key or token first.")

request = json.loads(r"""
{i.body}
""")
headers = {{
    "Content-Type": "application/json",
    "Authorization": f"Bearer {{SECRET}}",
{pin}}}
call = urllib.request.Request(SCORING_URI, data=json.dumps(request).encode(), headers=headers, method="POST")
try:
    with urllib.request.urlopen(call, timeout=90) as response:
        print(response.read().decode())
except urllib.error.HTTPError as error:
    print(f"The request failed with status {{error.code}}: {{error.read().decode(errors='replace')}}", file=sys.stderr)
    print(f"Request id: {{error.headers.get('x-ms-request-id')}}", file=sys.stderr)
    sys.exit(1)
except urllib.error.URLError as error:
    sys.exit(f"Could not reach {{SCORING_URI}}: {{error.reason}}")
'''


def _curl(i: SnippetInputs) -> str:
    pin = f'  -H "{DEPLOYMENT_HEADER}: {i.deployment}" \\\n' if i.deployment else ""
    return f"""#!/bin/sh
# Score endpoint '{i.endpoint}' once and print the answer.
# Set {i.variable} first (never write the secret into the script):
#   {i.how}
: "${{{i.variable}:?Set {i.variable} to the endpoint's key or token first.}}"
curl --fail-with-body --silent --show-error --max-time 90 \\
  -X POST "{i.scoring_uri}" \\
  -H "Authorization: Bearer ${i.variable}" \\
  -H "Content-Type: application/json" \\
{pin}  --data-binary @- <<'REQUEST'
{i.body}
REQUEST
"""


def _javascript(i: SnippetInputs) -> str:
    pin = f'    "{DEPLOYMENT_HEADER}": {json.dumps(i.deployment)},\n' if i.deployment else ""
    return f"""// Score endpoint '{i.endpoint}' once and print the answer (Node.js 18 or later: node score.js).
// Set {i.variable} first (never write the secret into code):
//   {i.how}
const scoringUri = {json.dumps(i.scoring_uri)};
const secret = process.env.{i.variable};
if (!secret) {{
  console.error("Set {i.variable} to the endpoint's key or token first.");
  process.exit(1);
}}
const request = {i.body};

fetch(scoringUri, {{
  method: "POST",
  headers: {{
    "Content-Type": "application/json",
    Authorization: `Bearer ${{secret}}`,
{pin}  }},
  body: JSON.stringify(request),
  signal: AbortSignal.timeout(90000),
}})
  .then(async (response) => {{
    const text = await response.text();
    if (!response.ok) {{
      console.error(`The request failed with status ${{response.status}}: ${{text}}`);
      console.error(`Request id: ${{response.headers.get("x-ms-request-id")}}`);
      process.exit(1);
    }}
    console.log(text);
  }})
  .catch((error) => {{
    console.error(`Could not reach ${{scoringUri}}: ${{error.message}}`);
    process.exit(1);
  }});
"""


def _csharp(i: SnippetInputs) -> str:
    pin = (
        f'client.DefaultRequestHeaders.Add("{DEPLOYMENT_HEADER}", "{i.deployment}");\n'
        if i.deployment
        else ""
    )
    verbatim = i.body.replace('"', '""')
    return f"""// Score endpoint '{i.endpoint}' once and print the answer (.NET 6 or later: Program.cs of a console app).
// Set {i.variable} first (never write the secret into code):
//   {i.how}
using System.Net.Http.Headers;
using System.Text;

var scoringUri = "{i.scoring_uri}";
var secret = Environment.GetEnvironmentVariable("{i.variable}");
if (string.IsNullOrEmpty(secret))
{{
    Console.Error.WriteLine("Set {i.variable} to the endpoint's key or token first.");
    return 1;
}}
var request = @"{verbatim}";

using var client = new HttpClient {{ Timeout = TimeSpan.FromSeconds(90) }};
client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
{pin}var content = new StringContent(request, Encoding.UTF8, "application/json");
try
{{
    var response = await client.PostAsync(scoringUri, content);
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {{
        Console.Error.WriteLine($"The request failed with status {{(int)response.StatusCode}}: {{text}}");
        Console.Error.WriteLine($"Request id: {{string.Join(",", response.Headers.TryGetValues("x-ms-request-id", out var ids) ? ids : Array.Empty<string>())}}");
        return 1;
    }}
    Console.WriteLine(text);
    return 0;
}}
catch (HttpRequestException error)
{{
    Console.Error.WriteLine($"Could not reach {{scoringUri}}: {{error.Message}}");
    return 1;
}}
"""


LANGUAGES: dict[str, tuple[str, Callable[[SnippetInputs], str]]] = {
    "python": ("score.py", _python),
    "curl": ("score.sh", _curl),
    "javascript": ("score.js", _javascript),
    "csharp": ("Program.cs", _csharp),
}
"""Language → (suggested file name, program writer)."""
