"""Every broken spec in tests/spec/broken/ fails with the one-line error its first line expects.

Each file starts with `# expect: LINE: FIELD: PHRASE`; the error must read `FILE:LINE: FIELD: ...PHRASE...`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codemie_provisioner.errors import SpecError
from codemie_provisioner.spec import load_spec

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))
EXPECT = re.compile(r"# expect: (\d+): (.*?): (.+)$")


def test_corpus_is_large_enough():
    assert len(BROKEN) >= 24


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_spec_reports_one_line_at_file_and_line(path: Path, kinds):
    expect = EXPECT.match(path.read_text().splitlines()[0])
    assert expect, f"{path.name}: first line must be '# expect: LINE: FIELD: PHRASE'"
    line, field, phrase = int(expect[1]), expect[2], expect[3]
    with pytest.raises(SpecError) as info:
        load_spec(path, {}, {}, kinds=kinds)
    err, text = info.value, str(info.value)
    assert "\n" not in text
    assert (err.file, err.line, err.field) == (str(path), line, field), text
    assert text.startswith(f"{path}:{line}: {field + ': ' if field else ''}"), text
    assert phrase in text, text


def test_spec_error_text_never_spans_lines():
    err = SpecError("a.yaml", 3, 'tags["multi\nline"]', "value\n  'x'\twas bad")
    assert str(err) == "a.yaml:3: tags[\"multi\\nline\"]: value 'x' was bad"
    assert str(SpecError("a.yaml", 1, "", "invalid YAML")) == "a.yaml:1: invalid YAML"
