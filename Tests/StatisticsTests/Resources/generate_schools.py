"""Generates schools.csv: a synthetic multilevel data set for the VaultStatistics exactness tests.

45 schools of 14 to 40 students. School-level terms: sector (private/public), region (east/north/south); student-level
terms: sex (F/M), program (arts/general/vocational), prior_score (one decimal), studytime (1-4), absences. The score
has a real school random intercept (sd 1.5) and a residual sd of 2.5, and is rounded to one decimal, so the data
are fixed-point numbers with scale 1. Deterministic (own linear congruential generator, no numpy), so rerunning
this script reproduces the committed CSV byte for byte:

    python3 generate_schools.py > schools.csv
"""
import math


class Rng:
    """A 64-bit LCG (Knuth's MMIX constants) with Box-Muller normals: deterministic across Python versions."""

    def __init__(self, seed):
        self.state = seed

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % 2**64
        return ((self.state >> 11) + 0.5) / 2**53

    def normal(self):
        return math.sqrt(-2.0 * math.log(self.uniform())) * math.cos(2.0 * math.pi * self.uniform())

    def choice(self, items):
        return items[min(int(self.uniform() * len(items)), len(items) - 1)]


def main():
    rng = Rng(20261205)
    print("school,sector,region,sex,program,prior_score,studytime,absences,score")
    for s in range(1, 46):
        school = f"s{s:02d}"
        sector = rng.choice(["public", "public", "private"])
        region = rng.choice(["north", "south", "east"])
        effect = 1.5 * rng.normal()
        size = 14 + int(rng.uniform() * 27)
        for _ in range(size):
            sex = rng.choice(["F", "M"])
            program = rng.choice(["general", "general", "vocational", "arts"])
            prior = round(min(20.0, max(0.0, 11.0 + 3.0 * rng.normal())), 1)
            studytime = 1 + int(rng.uniform() * 4)
            absences = int(-3.0 * math.log(rng.uniform()))
            score = (
                2.0 + 0.7 * prior + 0.4 * studytime - 0.08 * absences
                + (0.6 if sector == "private" else 0.0)
                + {"north": 0.0, "south": -0.5, "east": 0.3}[region]
                + (-0.3 if sex == "M" else 0.0)
                + {"general": 0.0, "vocational": -0.8, "arts": 0.4}[program]
                + effect + 2.5 * rng.normal()
            )
            print(f"{school},{sector},{region},{sex},{program},{prior:.1f},{studytime},{absences},{score:.1f}")


if __name__ == "__main__":
    main()
