"""Reference statistics for the VaultStatistics exactness tests, computed on the plaintext with statsmodels and scipy.

Usage: model_reference.py CSV FORMULA [--random GROUP] [--contrast TERM]
       model_reference.py --batch JOBS.json   (a list of {"csv", "formula", "random", "contrast"}; prints a list)

The batch form exists because importing statsmodels costs seconds: the Swift tests ask for every case at once.

Reads a comma-separated CSV with a header (string columns are categorical, numeric columns numeric) and prints one
JSON object shaped like VaultStatistics' ModelResult.json():
- model: statsmodels.formula.api.ols(FORMULA).fit(): nobs, df_resid, df_model, rsquared, rsquared_adj, fvalue,
  f_pvalue; per column params, bse, tvalues, pvalues, conf_int(0.05), and estimate x sd(x)/sd(y) (numeric columns) or
  estimate / sd(y) (treatment dummies), sd with ddof=1;
- anova: statsmodels.stats.anova.anova_lm(fit, typ=2);
- correlations: scipy.stats.pearsonr for every pair of the numeric variables [response, numeric terms in formula
  order], with .confidence_interval(0.95) (Fisher);
- hedges_g (with --contrast): g = J (mean1 - mean0) / s_pooled, J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)),
  df = n0 + n1 - 2, se = sqrt((n0+n1)/(n0 n1) + g^2 / (2 (n0+n1))), ci95 = g -+ z_0.975 se; written out here
  independently of the Swift code (there is no statsmodels function for it);
- random (with --random): statsmodels MixedLM.from_formula(FORMULA, groups=GROUP).fit(reml=True), refined with a
  tight BFGS from the first optimum so the variance estimate is converged far below the tests' tolerance; reports
  fe_params, bse_fe, z, p, conf_int, cov_re, scale and llf (the REML log-likelihood).
"""
import argparse
import json
import math
import sys
import warnings

import numpy as np
import pandas as pd
import scipy.special
import scipy.stats
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm


def num(x):
    """A finite float, or None for NaN (JSON has no NaN)."""
    x = float(x)
    return None if math.isnan(x) else x


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--batch":
        with open(sys.argv[2]) as jobs:
            results = [reference(job["csv"], job["formula"], job.get("random"), job.get("contrast"))
                       for job in json.load(jobs)]
        json.dump(results, sys.stdout, indent=1, sort_keys=True)
        print()
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("formula")
    parser.add_argument("--random")
    parser.add_argument("--contrast")
    args = parser.parse_args()
    json.dump(reference(args.csv, args.formula, args.random, args.contrast), sys.stdout, indent=1, sort_keys=True)
    print()


def reference(csv, formula, random, contrast):
    """The reference statistics of one model on one CSV, as a JSON-ready dict."""
    args = argparse.Namespace(csv=csv, formula=formula, random=random, contrast=contrast)
    data = pd.read_csv(args.csv)
    response, rhs = [s.strip() for s in args.formula.split("~")]
    terms = [t.strip() for t in rhs.split("+")]
    categorical = [t for t in terms if not pd.api.types.is_numeric_dtype(data[t])]
    numeric = [response] + [t for t in terms if t not in categorical]
    for name in categorical:
        data[name] = data[name].astype(str)

    fit = smf.ols(args.formula, data=data).fit()
    sd = data[numeric].std(ddof=1)
    ci = fit.conf_int(0.05)
    names = list(fit.params.index)
    model_terms = []
    for name in names:
        estimate = float(fit.params[name])
        if name == "Intercept":
            std = None
        elif name in numeric:
            std = estimate * float(sd[name]) / float(sd[response])
        else:
            std = estimate / float(sd[response])
        model_terms.append({
            "name": name, "estimate": estimate, "se": float(fit.bse[name]), "t": float(fit.tvalues[name]),
            "p": float(fit.pvalues[name]), "ci95": [float(ci.loc[name, 0]), float(ci.loc[name, 1])],
            "std_estimate": std,
        })
    result = {
        "model": {
            "n": int(fit.nobs), "df_resid": float(fit.df_resid), "df_model": float(fit.df_model),
            "r2": float(fit.rsquared), "adj_r2": float(fit.rsquared_adj), "f": float(fit.fvalue),
            "f_p": float(fit.f_pvalue), "sd_response": float(sd[response]), "terms": model_terms,
        }
    }

    table = anova_lm(fit, typ=2)
    result["anova"] = [
        {"term": str(term), "sum_sq": num(row["sum_sq"]), "df": num(row["df"]), "F": num(row["F"]),
         "p": num(row["PR(>F)"])}
        for term, row in table.iterrows()
    ]

    correlations = []
    for i in range(len(numeric)):
        for j in range(i + 1, len(numeric)):
            r = scipy.stats.pearsonr(data[numeric[i]], data[numeric[j]])
            low, high = r.confidence_interval(0.95)
            correlations.append({"x": numeric[i], "y": numeric[j], "n": int(len(data)), "r": float(r.statistic),
                                 "p": float(r.pvalue), "ci95": [float(low), float(high)]})
    result["correlations"] = correlations

    if args.contrast:
        levels = sorted(data[args.contrast].unique())
        assert len(levels) == 2, "the contrast needs exactly two levels"
        y0 = data.loc[data[args.contrast] == levels[0], response].to_numpy(dtype=float)
        y1 = data.loc[data[args.contrast] == levels[1], response].to_numpy(dtype=float)
        n0, n1 = len(y0), len(y1)
        df = n0 + n1 - 2
        pooled = math.sqrt(((n0 - 1) * y0.var(ddof=1) + (n1 - 1) * y1.var(ddof=1)) / df)
        j = math.exp(math.lgamma(df / 2) - math.lgamma((df - 1) / 2)) / math.sqrt(df / 2)
        g = j * (y1.mean() - y0.mean()) / pooled
        se = math.sqrt((n0 + n1) / (n0 * n1) + g * g / (2 * (n0 + n1)))
        z = scipy.stats.norm.ppf(0.975)
        result["hedges_g"] = {"term": args.contrast, "levels": [str(v) for v in levels], "n": [n0, n1], "g": g,
                              "se": se, "ci95": [g - z * se, g + z * se]}

    if args.random:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = smf.mixedlm(args.formula, data=data, groups=data[args.random])
            first = model.fit(reml=True)
            # The default fit stops at |gradient| ~ 1e-4; conjugate gradients from there converge to ~1e-8 in the
            # variance (BFGS gets ~1e-7). Keep whichever has the higher REML log-likelihood.
            mixed = first
            for method, options in [("cg", {"gtol": 1e-14}), ("bfgs", {"gtol": 1e-12})]:
                try:
                    refined = model.fit(reml=True, start_params=first.params, method=method, maxiter=5000, **options)
                except Exception:  # a failed refinement leaves the first fit
                    continue
                if refined.llf >= mixed.llf - 1e-9:
                    mixed = refined
                    break
        mci = mixed.conf_int(0.05)
        fe = mixed.fe_params
        var_group = float(mixed.cov_re.iloc[0, 0])
        var_resid = float(mixed.scale)
        result["random"] = {
            "group": args.random, "groups": sorted(str(g) for g in data[args.random].unique()),
            "var_group": var_group, "var_resid": var_resid, "icc": var_group / (var_group + var_resid),
            "reml_loglik": float(mixed.llf),
            "terms": [
                {"name": name, "estimate": float(fe[name]), "se": float(mixed.bse_fe[name]),
                 "z": float(mixed.tvalues[name]), "p": float(mixed.pvalues[name]),
                 "ci95": [float(mci.loc[name, 0]), float(mci.loc[name, 1])]}
                for name in fe.index
            ],
        }
    return result


if __name__ == "__main__":
    main()
