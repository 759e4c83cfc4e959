"""Labelled CSV files and ``parley evaluate`` (docs/contract.md §8): exit 0 with the
report, exit 2 with a message for a bad file, never a traceback."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.evaluate import LEARNERS as CLI_LEARNERS
from cli.main import main
from shared.classifier.dataset import BadFile, Row, parse
from shared.classifier.model import LEARNERS
from tests.support.corpus import comments, write_csv


def test_a_good_file():
    data = (
        "\ufeffText,LABEL,author_name,author_url,extra\r\n"
        '"Win a prize, now!",1,Bob,https://x.example/,z\r\n'
        "\r\n"
        '"two\nlines",0,,,\r\n'
    ).encode()
    assert parse(data) == [
        Row("Win a prize, now!", 1, "Bob", "", "https://x.example/"),
        Row("two\nlines", 0, "", "", None),
    ]
    assert parse(gzip.compress(b"label,text\n1,spam spam\n")) == [Row("spam spam", 1)]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"text,label\n", "no rows"),
        (b"text,kind\nhello,1\n", "must name the columns text and label"),
        (b"text,label,label\nhello,1,1\n", "more than once"),
        (b"text,label\nhello,spam\n", r"line 2: label must be 1 \(spam\) or 0 \(ham\)"),
        (b"text,label\nhello,1\n  ,0\n", "line 3: empty text"),
        (b"text,label\nhello,1,extra\n", "line 2: 3 fields where the header has 2"),
        (b"text,label\n\xff\xfe,1\n", "not UTF-8"),
        (b"text,label\nhel\x00lo,1\n", "NUL"),
        (b'text,label\n"unclosed,1\n', "not valid CSV"),
        (b"\x1f\x8b\x08\x00garbage", "not a readable gzip file"),
    ],
)
def test_a_bad_file_says_why(data, why):
    with pytest.raises(BadFile, match=why):
        parse(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda t: ("text,label\n" + t).encode()))
def test_any_bytes_are_rows_or_a_bad_file(data):
    try:
        rows = parse(data)
    except BadFile as exc:
        assert str(exc)
    else:
        assert rows and all(r.label in (0, 1) and r.text for r in rows)


def evaluate(tmp_path, data: bytes, *args: str, **env: str):
    path = tmp_path / "labelled.csv"
    path.write_bytes(data)
    return CliRunner().invoke(main, ["evaluate", str(path), *args], env=env)


def test_evaluate_json(tmp_path):
    path = write_csv(tmp_path / "blog.csv", comments(70, 50, seed=11))
    result = CliRunner().invoke(
        main, ["evaluate", str(path), "--train-first", "80", "--seed", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["n_train"], report["n_test"]) == (80, 40)
    for field in ("spam_caught", "spam_to_spam", "ham_to_spam", "ham_to_held", "auc"):
        assert 0 <= report[field] <= 1, field
    assert report["classifier"]["trained"] >= 1
    assert set(report["rules"]["classifier"]) == {"ham_fired", "spam_fired", "ham_sole_cause"}
    assert "judging 40 rows" in result.stderr  # progress on stderr, not in the JSON


def test_evaluate_table_and_the_rules_alone(tmp_path):
    data = write_csv(tmp_path / "x.csv", comments(40, 30, seed=2)).read_bytes()
    table = evaluate(tmp_path, data, "--train-first", "50")
    assert table.exit_code == 0
    assert "caught (held or spam)" in table.stdout and "ham sole cause" in table.stdout
    off = evaluate(tmp_path, data, "--train-first", "50", "--json", PARLEY_CLASSIFIER="off")
    report = json.loads(off.stdout)
    assert report["classifier"]["mode"] == "off" and "classifier" not in report["rules"]


def test_evaluate_a_cold_start_is_silent(tmp_path):
    data = write_csv(tmp_path / "x.csv", comments(30, 5, seed=4)).read_bytes()
    result = evaluate(tmp_path, data, "--train-first", "20", "--json")
    report = json.loads(result.stdout)
    assert report["classifier"]["trained"] == 0 and "classifier" not in report["rules"]


@pytest.mark.parametrize(
    "data", [b"", b"text,kind\nx,1\n", b"text,label\nx,2\n", b"\x00\x01\x02", b"text,label\n"]
)
def test_evaluate_a_bad_file_exits_2(tmp_path, data):
    result = evaluate(tmp_path, data, "--json")
    assert result.exit_code == 2
    assert "labelled.csv" in result.stderr and result.stdout == ""
    missing = CliRunner().invoke(main, ["evaluate", str(tmp_path / "missing.csv")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=300)
    | st.lists(
        st.tuples(st.text(max_size=30), st.sampled_from(["0", "1", "2", ""])), max_size=15
    ).map(lambda rows: ("text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in rows)).encode())
)
def test_evaluate_any_bytes_exits_0_or_2(tmp_path, data):
    result = evaluate(tmp_path, data, "--train-first", "5", "--json")
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_cli_names_every_learner():
    assert set(CLI_LEARNERS) == set(LEARNERS)
