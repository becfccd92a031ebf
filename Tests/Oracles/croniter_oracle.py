"""Cron oracle for the differential test: croniter's answer for each question.

Reads lines `EXPRESSION<TAB>ZONE<TAB>AFTER_EPOCH_SECONDS` from the file named by argv[1] and
prints, per line, the next fire time after that instant as epoch seconds, or `error: …`.
Six-field expressions have seconds first, as Simple Scheduler writes them.
"""
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter


def main(path):
    zones = {}
    out = []
    with open(path, encoding="utf-8") as questions:
        for line in questions:
            expression, zone_name, after = line.rstrip("\n").split("\t")
            zone = zones.setdefault(zone_name, ZoneInfo(zone_name))
            try:
                start = datetime.fromtimestamp(int(after), zone)
                seconds_first = len(expression.split()) == 6
                iterator = croniter(expression, start, second_at_beginning=seconds_first)
                out.append(str(int(iterator.get_next(datetime).timestamp())))
            except Exception as error:  # noqa: BLE001 - reported, not hidden
                out.append("error: " + str(error).replace("\n", " "))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
