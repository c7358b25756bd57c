"""LEAN's QCAlgorithm.train and Schedule.training (engine/schedule.py): scheduled events for training code."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.engine_helpers import run, sessions, write_daily


def test_train_runs_now_and_at_its_rules_times(tmp_path: Path) -> None:
    # LEAN's TrainingNow is an event for today at the current time: called in initialize it runs at the start
    # (midnight of 7 Oct 2013), before the first bar; train(every Sunday, 8:00) runs on 13 Oct at 8:00 and
    # schedule.training(every day, 12:00) at noon of each day. Sessions from 30 Sep close 100, 101, …: the code
    # sees the history to its time, the 5 sessions to 4 Oct (close 104) at the start, 10 to 11 Oct (109) on Sunday.
    days = sessions(date(2013, 9, 30), 11)
    write_daily(tmp_path, "SPY", [(d, 100.0, 101.0, 99.0, 100.0 + i) for i, d in enumerate(days)])
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 14)
        self.add_equity("SPY", Resolution.DAILY)
        self.runs, self.noons = [], []
        self.train(self.fit)
        self.train(self.date_rules.every(DayOfWeek.SUNDAY), self.time_rules.at(8, 0), self.fit)
        self.schedule.training(self.date_rules.every_day(), self.time_rules.at(12, 0),
                               lambda: self.noons.append(self.time.day))

    def fit(self):
        history = self.history(["SPY"], 200, Resolution.DAILY)
        self.runs.append(f"{self.time:%d %H:%M} {len(history)} {history['close'].iloc[-1] if len(history) else 0:g}")

    def on_end_of_algorithm(self):
        self.debug(f"RUNS {self.runs} NOONS {self.noons}")
'''
    logs = " ".join(run(source, tmp_path)["result"]["logs"])
    assert "RUNS ['07 00:00 5 104', '13 08:00 10 109'] NOONS [7, 8, 9, 10, 11, 12, 13, 14]" in logs
