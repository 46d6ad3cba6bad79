"""The `rapport` command's own behaviour: outputs and clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rapport_local.cli import main


def test_detect_writes_one_verdict_row_per_post(tmp_path, capsys):
    # Given a CSV of posts
    posts = tmp_path / "posts.csv"
    posts.write_text('text\n"Anyone know a good Postgres host?"\n"@ana_builds thanks for the RT!"\n')
    # When the detectors run on it
    assert main(["detect", "--file", str(posts), "--me", "ana_builds"]) == 0
    # Then each row carries its question and thanks verdicts
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "text,question,thanks",
        "Anyone know a good Postgres host?,1,0",
        "@ana_builds thanks for the RT!,0,1",
    ]


def test_a_missing_or_malformed_file_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    assert main(["detect", "--file", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err
    no_text = tmp_path / "bad.csv"
    no_text.write_text("body\nhello\n")
    assert main(["detect", "--file", str(no_text)]) == 2
    assert "text" in capsys.readouterr().err


def test_training_without_the_data_set_is_a_clear_error_and_leaves_the_shipped_weights(tmp_path, capsys):
    from rapport_local.detect_eval import MODEL_PATH

    # Given a shared folder without the tweet-acts dev set
    before = MODEL_PATH.read_bytes()
    # When the weights are trained
    assert main(["detect", "--train", "--shared", str(tmp_path)]) == 2
    # Then the missing file is named and the shipped model is untouched
    assert "dev.csv" in capsys.readouterr().err
    assert MODEL_PATH.read_bytes() == before


def test_setup_takes_either_a_keys_file_or_keep_keys_not_both(tmp_path, capsys):
    # When both are given
    with pytest.raises(SystemExit) as exited:
        main(["--local", "setup", "--keep-keys", "--x-keys-file", str(tmp_path / "keys.json")])
    # Then it is a usage error naming the clash, before any stack is reached
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path):
    # Given far more output than a pipe holds, e.g. `rapport detect --file posts.csv | head -1`
    posts = tmp_path / "posts.csv"
    posts.write_text(
        "text\n" + "".join(f'"Post number {i}, long enough to fill the pipe quickly"\n' for i in range(5000))
    )
    command = [sys.executable, "-c", "import sys; from rapport_local.cli import main; sys.exit(main())"]
    reader = subprocess.Popen(
        [*command, "detect", "--file", str(posts)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert reader.stdout is not None and reader.stderr is not None

    # When the reader takes one line and goes away
    reader.stdout.readline()
    reader.stdout.close()
    errors = reader.stderr.read().decode()
    reader.wait(timeout=60)

    # Then the command stops without a traceback
    assert "Traceback" not in errors
    assert reader.returncode == 1
