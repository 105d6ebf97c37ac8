"""The README's examples work as written: the `train` example writes the checkpoint the `complete`
example reads, the commands they call exist, and nothing they write lands in git's view."""
from __future__ import annotations

import re
import shlex
import subprocess

from inpaint.files import PROJECT_ROOT
from inpaint.study.profiles import PROFILES
from inpaint.tools.cli import build_parser

README = PROJECT_ROOT / "README.md"


def example_commands() -> list[list[str]]:
    """The commands of the README's "Using the pieces" block, continuation lines joined, split
    as a shell would."""
    section = README.read_text().split("## Using the pieces", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in block.replace("\\\n", " ").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return [shlex.split(line) for line in lines]


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_train_example_writes_the_checkpoint_the_complete_example_reads():
    commands = example_commands()
    train = next(c for c in commands if c[1:2] == ["train"])
    complete = next(c for c in commands if c[1:2] == ["complete"] and "--checkpoint" in c)
    config = PROFILES[flag(train, "--profile")].train
    last = config.epochs - config.epochs % config.checkpoint_every
    expected = f"{flag(train, '--out')}/checkpoints/epoch_{last:03d}.pt"
    assert flag(complete, "--checkpoint") == expected


def test_the_examples_parse_with_the_command_line_they_call():
    parser = build_parser()
    for argv in example_commands():
        if argv[0] == ".venv/bin/inpaint":
            parser.parse_args(argv[1:])  # exits (a failure) on an unknown flag or value


def test_what_the_examples_write_stays_out_of_git():
    """Run folders and notebooks the examples write are ignored by git, or outside the clone."""
    written = []
    for argv in example_commands():
        if argv[0].endswith("papermill") and "--help-notebook" not in argv:
            written.append(argv[2])
        elif argv[1:2] == ["train"]:
            written.append(flag(argv, "--out") + "/checkpoints/epoch_001.pt")
    assert written
    for path in written:
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT_ROOT)
        assert ignored.returncode == 0 or re.match(r"^(/|\.\./)", path), f"{path} is not ignored"
