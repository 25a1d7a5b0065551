import json

from digitrec.cli import main
from digitrec.compare import leaderboard_table


def test_compare_on_a_tiny_subset_writes_the_leaderboard(tmp_path, capsys):
    out = tmp_path / "board"
    argv = [
        "-q",
        "compare",
        "mlp",
        "tutorial-cnn",
        "--train-limit",
        "1200",
        "--val-size",
        "200",
        "--threads",
        "2",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| rank | model |" in printed and "`mlp`" in printed
    rows = json.loads((out / "leaderboard.json").read_text())
    assert {row["model"] for row in rows} == {"mlp", "tutorial-cnn"}
    accuracies = [row["accuracy"] for row in rows]
    assert accuracies == sorted(accuracies, reverse=True)  # best first
    for row in rows:
        assert 0.5 < row["accuracy"] <= 1
        assert row["parameters"] in (13_002, 8_490)
        assert row["file_bytes"] > 0 and row["predict_ms_per_1000"] > 0
        assert row["train_seconds"] > 0
    assert (out / "leaderboard.md").read_text().startswith("# Leaderboard")
    assert (out / "leaderboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "mlp" / "model.safetensors").is_file()

    # --reuse loads what is there instead of training again.
    before = (out / "mlp" / "model.safetensors").stat().st_mtime_ns
    assert main([*argv, "--reuse", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert {row["model"]: row["accuracy"] for row in again} == {
        row["model"]: row["accuracy"] for row in rows
    }
    assert (out / "mlp" / "model.safetensors").stat().st_mtime_ns == before


def test_compare_rejects_an_unknown_model_before_training(tmp_path, capsys):
    assert main(["compare", "mlp", "nonsense", "--out", str(tmp_path)]) == 1
    assert "unknown model 'nonsense'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_leaderboard_table_formats_sizes_and_missing_times():
    row = {
        "model": "knn",
        "accuracy": 0.9705,
        "errors": 295,
        "parameters": 47_040_000,
        "file_bytes": 47_100_000,
        "train_seconds": None,
        "predict_ms_per_1000": 812.3,
    }
    table = leaderboard_table([row])
    assert "| 1 | `knn` | 97.05% | 295 | 47,040,000 | 44.9 MB | - | 812.3 |" in table
