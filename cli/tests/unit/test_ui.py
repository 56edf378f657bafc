"""The CLI's words and layouts."""

import doctest

from driftloop_cli import ui


def test_docstring_examples_run():
    result = doctest.testmod(ui)
    assert result.attempted > 0 and result.failed == 0


def test_in_a_pipe_a_table_is_one_line_per_row_and_nothing_is_cut(capsys):
    long = "driftloop.ingestion.v1.RecordValidated" * 3
    ui.print_table(("topic", "events"), [("t", f"{long}\nsecond")], title="topics")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["# topics", "topic\tevents", f"t\t{long}, second"]


def test_colour_codes_are_stripped():
    assert ui.strip_ansi("\x1b[31mERROR\x1b[0m bind: \x1b[1maddress in use\x1b[0m") == (
        "ERROR bind: address in use"
    )
