"""What env.py's subprocesses write to descriptors 1 and 2 reaches the log line by line,
secrets masked even when a line arrives in bursts (the pump of a real pipe)."""

from __future__ import annotations

import os
import threading
import time

from migtui.tui.terminal_guard import TerminalGuard, last_word_start


def _pumped(*bursts: bytes, pause: float = 0.5) -> list[str]:
    """The lines the guard tells for these bursts, written with ``pause`` between."""
    guard = TerminalGuard()
    lines: list[str] = []
    guard.attach(lines.append)
    read, write = os.pipe()
    pump = threading.Thread(target=guard._pump, args=(read,), daemon=True)
    pump.start()
    for burst in bursts:
        os.write(write, burst)
        time.sleep(pause)
    os.close(write)
    pump.join(timeout=10)
    os.close(read)
    return lines


def test_a_password_written_in_two_bursts_is_masked() -> None:
    lines = _pumped(b"connecting to postgresql://app:hun", b"ter2@db.example/prod\n")
    text = "\n".join(lines)
    assert "hunter2" not in text and "hun" not in text.replace("connecting", "")
    assert "postgresql://app:***@db.example/prod" in text


def test_a_secret_key_split_in_two_bursts_still_masks_its_value() -> None:
    lines = _pumped(b"using pass", b"word=s3cret-value and more\n")
    assert "s3cret" not in "\n".join(lines)
    assert "password=***" in "\n".join(lines)


def test_a_line_without_its_end_is_told_up_to_its_last_word() -> None:
    """Progress without a newline still shows, its last word a little later."""
    lines = _pumped(b"Running upgrade a -> b, wait", pause=0.6)
    assert [line.rstrip() for line in lines[:1]] == ["Running upgrade a -> b,"]
    assert "".join(lines[1:]) == "wait"  # (told when the pipe closed)


def test_a_held_word_is_told_after_a_while() -> None:
    lines = _pumped(b"progress: 50%", pause=2.6)
    assert "progress: 50%" in "".join(lines)


def test_where_the_last_word_begins() -> None:
    assert last_word_start(b"a b c") == 4
    assert last_word_start(b"done. ") == 6
    assert last_word_start(b"x token=ab") == 2
    assert last_word_start(b"x pwd : ") == 2
    assert last_word_start(b"postgresql://u:p") == 0
