//! `--vary KEY=V1,V2` and `--cross` to variants: the keys are the command's own input flags
//! (every flag that takes a value, outside the output, budget and what-if flags), and each
//! variant is the command line with its keys' flags replaced (or added), parsed again by clap.

use super::MAX_VARIANTS;
use crate::cli::{Cli, Command, EstimateCommand};
use anyhow::{anyhow, bail, Result};
use clap::parser::ValueSource;
use clap::{CommandFactory, Parser};
use std::ffi::OsString;

/// Help headings whose flags are not inputs of the estimate.
const NOT_KEYS: [&str; 4] = ["Output", "Budgets", "What-if", "Growth"];

/// Flags that replace a model's inputs: a variant of one of those inputs, beside the flag in the
/// baseline, would change nothing (`(subcommand, flag, the keys it overrides)`). The resolvers
/// say the same in their notes ("... are not used").
const OVERRIDES: [(&str, &str, &[&str]); 3] = [
    (
        "infer",
        "energy-per-request",
        &[
            "model",
            "params",
            "active-params",
            "gpu",
            "gpus",
            "server",
            "batch",
            "precision",
            "input-tokens",
            "mfu",
            "mbu",
            "utilization",
            "power-cap",
            "device",
        ],
    ),
    ("train", "flops", &["params", "active-params", "tokens"]),
    (
        "fleet",
        "energy",
        &[
            "servers",
            "it-power",
            "server",
            "server-power",
            "gpus-per-server",
            "load",
            "gpu",
        ],
    ),
];

/// Flags that name what another flag also gives: a variant of one beside the other in the
/// baseline would be neither (`(key, the baseline's flag)`): `--model` names its parameter
/// count.
const CONFLICTS: [(&str, &str); 4] = [
    ("params", "model"),
    ("active-params", "model"),
    ("model", "params"),
    ("model", "active-params"),
];

/// What a key set in a compound variant (`--vary 'gpu=h100&model=llama-3.1-70b'`) replaces in
/// the baseline: where the model runs (a personal device or data-centre hardware) and what runs
/// (a catalog model or a parameter count). A single-key variant never drops a baseline flag: it
/// is refused with a pointer to the compound form.
const REPLACES: [(&str, &[&str]); 7] = [
    (
        "device",
        &[
            "gpu",
            "gpus",
            "server",
            "datacenter",
            "pue",
            "cooling",
            "wue",
            "utilization",
            "power-cap",
        ],
    ),
    ("gpu", &["device", "charger"]),
    ("gpus", &["device", "charger"]),
    ("server", &["device", "charger"]),
    ("model", &["params", "active-params"]),
    ("params", &["model"]),
    ("active-params", &["model"]),
];

/// One variant: the flags it sets and the command they give.
pub(super) struct Variant {
    /// `(key, value)`, in the order of the `--vary` flags.
    pub pairs: Vec<(String, String)>,
    /// Baseline flags a compound variant replaced (`--gpu h100`), said in its notes.
    pub replaced: Vec<String>,
    /// The command line with the pairs, parsed.
    cmd: EstimateCommand,
}

impl Variant {
    /// `pue=1.1` (`pue=1.1 grid=FR` with `--cross`).
    pub(super) fn label(&self) -> String {
        let p: Vec<String> = self.pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        p.join(" ")
    }
}

/// Each variant's arguments of one subcommand (`pick` takes them out of its command).
pub(super) fn each<'a, A: ?Sized>(
    variants: &'a [Variant],
    pick: impl Fn(&'a EstimateCommand) -> Option<&'a A>,
) -> Result<Vec<&'a A>> {
    variants
        .iter()
        .map(|v| pick(&v.cmd).ok_or_else(|| anyhow!("--vary {}: not the same command", v.label())))
        .collect()
}

/// The input flags of an estimate subcommand that `--vary` takes, without `--`.
pub(super) fn keys(sub: &clap::Command) -> Vec<String> {
    sub.get_arguments()
        .filter(|a| a.get_action().takes_values() && !a.is_global_set())
        .filter(|a| !a.get_help_heading().is_some_and(|h| NOT_KEYS.contains(&h)))
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

/// Keys whose one value holds commas (`breakdown=it=0.8,cooling=0.15,power=0.05`): without a
/// `;` their text is one value.
const COMMA_KEYS: [&str; 1] = ["breakdown"];

/// `KEY=V1,V2` (or `KEY=V1;V2`, for values that hold commas) checked: a known key, values, none
/// empty.
fn parse_one(item: &str, keys: &[String], sub: &str) -> Result<(String, Vec<String>)> {
    let (key, values) = item.split_once('=').unwrap_or((item, ""));
    let key = key.trim().trim_start_matches("--");
    if key.is_empty() {
        bail!("--vary {item}: no key; give KEY=V1,V2 with KEY an input flag without `--` (e.g. --vary pue=1.1,1.3)");
    }
    if !keys.iter().any(|k| k == key) {
        bail!(
            "--vary {item}: unknown key `{key}`; the keys of `estimate {sub}` are its input flags: {}",
            keys.join(", ")
        );
    }
    if values.trim().is_empty() {
        bail!("--vary {item}: no values for {key}; give one or more after `=`, separated by commas (e.g. --vary {key}=V1,V2)");
    }
    // `;` separates the values when given (a value may then hold commas); else commas do,
    // but for a key whose value holds commas (one value).
    let sep = if values.contains(';') {
        Some(';')
    } else if COMMA_KEYS.contains(&key) {
        None
    } else {
        Some(',')
    };
    let values: Vec<String> = match sep {
        Some(c) => values.split(c).map(|v| v.trim().to_string()).collect(),
        None => vec![values.trim().to_string()],
    };
    if let Some(i) = values.iter().position(String::is_empty) {
        let what = if sep == Some(';') {
            "semicolon"
        } else {
            "comma"
        };
        bail!(
            "--vary {item}: value {} of {key} is empty; remove the extra {what}",
            i + 1
        );
    }
    Ok((key.to_string(), values))
}

/// `KEY=V&KEY2=V2` (one variant setting several keys) checked: known keys, one value each, no
/// key twice.
fn parse_compound(item: &str, keys: &[String], sub: &str) -> Result<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in item.split('&') {
        let (key, values) = parse_one(part, keys, sub)?;
        if values.len() != 1 {
            bail!(
                "--vary {item}: {key} has {} values; a compound variant (KEY=V&KEY2=V2) sets one \
                 value per key: give one --vary per compound variant",
                values.len()
            );
        }
        if pairs.iter().any(|(k, _)| *k == key) {
            bail!("--vary {item}: {key} is set twice in one variant");
        }
        pairs.push((key, values.into_iter().next().unwrap_or_default()));
    }
    Ok(pairs)
}

/// The subcommand's name and the variants the `--vary` flags (and `--cross`) ask for.
pub(super) fn variants(cmd: &EstimateCommand) -> Result<(String, Vec<Variant>)> {
    let out = super::output(cmd);
    let root = Cli::command();
    let matches = root
        .clone()
        .try_get_matches_from(std::env::args_os())
        .map_err(|e| anyhow!("{}", clap_line(&e)))?;
    let (sub_name, sm) = matches
        .subcommand()
        .and_then(|(_, em)| em.subcommand())
        .ok_or_else(|| {
            anyhow!("--vary works on `wattlens estimate train|infer|fleet|datacenter`")
        })?;
    let sub = root
        .find_subcommand("estimate")
        .and_then(|e| e.find_subcommand(sub_name))
        .ok_or_else(|| anyhow!("--vary: no subcommand `estimate {sub_name}`"))?;
    let keys = keys(sub);
    let mut asked: Vec<(String, Vec<String>)> = Vec::new();
    let mut compounds: Vec<Vec<(String, String)>> = Vec::new();
    for item in &out.vary {
        if item.contains('&') {
            if out.cross {
                bail!("--vary {item}: a compound variant (KEY=V&KEY2=V2) is one variant already; drop --cross");
            }
            compounds.push(parse_compound(item, &keys, sub_name)?);
            continue;
        }
        let (key, values) = parse_one(item, &keys, sub_name)?;
        // The same value twice is the same variant twice (hostile round 5: two identical rows
        // in the output and the ledger).
        if let Some((_, v)) = values
            .iter()
            .enumerate()
            .find(|(i, v)| values[..*i].contains(v))
        {
            bail!("--vary {key}: the value {v} is given twice; give each value once");
        }
        if asked.iter().any(|(k, _)| *k == key) {
            bail!("--vary {key} is given twice; put every value in one: --vary {key}=V1,V2,V3");
        }
        asked.push((key, values));
    }
    let count = if out.cross {
        asked
            .iter()
            .fold(1usize, |n, (_, v)| n.saturating_mul(v.len()))
    } else {
        asked.iter().map(|(_, v)| v.len()).sum::<usize>() + compounds.len()
    };
    if count > MAX_VARIANTS {
        bail!(
            "--vary{}: {count} variants, more than the {MAX_VARIANTS} one command runs; give fewer values{}",
            if out.cross { " with --cross" } else { "" },
            if out.cross { " or drop --cross" } else { "" }
        );
    }
    // The baseline as given: `(flag, value)` of every flag set on the command line.
    let mut given: Vec<(String, Option<OsString>)> = Vec::new();
    for a in sub.get_arguments() {
        let id = a.get_id().as_str();
        let Some(long) = a.get_long() else { continue };
        if long == "vary" || long == "cross" {
            continue;
        }
        if sm.value_source(id) != Some(ValueSource::CommandLine) {
            continue;
        }
        if a.get_action().takes_values() {
            for v in sm.get_raw(id).into_iter().flatten() {
                given.push((long.to_string(), Some(v.to_os_string())));
            }
        } else {
            given.push((long.to_string(), None));
        }
    }
    let combos: Vec<(Vec<(String, String)>, bool)> = if out.cross {
        asked
            .iter()
            .fold(vec![Vec::new()], |acc, (k, vs)| {
                acc.iter()
                    .flat_map(|prefix| {
                        vs.iter().map(move |v| {
                            let mut p = prefix.clone();
                            p.push((k.clone(), v.clone()));
                            p
                        })
                    })
                    .collect()
            })
            .into_iter()
            .map(|p| (p, false))
            .collect()
    } else {
        asked
            .iter()
            .flat_map(|(k, vs)| {
                vs.iter()
                    .map(move |v| (vec![(k.clone(), v.clone())], false))
            })
            .chain(compounds.into_iter().map(|p| (p, true)))
            .collect()
    };
    let variants = combos
        .into_iter()
        .map(|(pairs, compound)| variant(sub_name, &given, pairs, compound))
        .collect::<Result<Vec<_>>>()?;
    Ok((sub_name.to_string(), variants))
}

/// The command line of one variant, parsed.
fn variant(
    sub: &str,
    given: &[(String, Option<OsString>)],
    pairs: Vec<(String, String)>,
    compound: bool,
) -> Result<Variant> {
    // A compound variant replaces the baseline flags its keys stand in for (REPLACES).
    let dropped = |flag: &str| {
        compound
            && !pairs.iter().any(|(k, _)| k == flag)
            && pairs.iter().any(|(k, _)| {
                REPLACES
                    .iter()
                    .any(|(key, flags)| key == k && flags.contains(&flag))
            })
    };
    let mut replaced = Vec::new();
    let mut argv: Vec<OsString> = vec!["wattlens".into(), "estimate".into(), sub.into()];
    for (flag, value) in given {
        if pairs.iter().any(|(k, _)| k == flag) {
            continue;
        }
        if dropped(flag) {
            replaced.push(match value {
                Some(v) => format!("--{flag} {}", v.to_string_lossy()),
                None => format!("--{flag}"),
            });
            continue;
        }
        let mut a = OsString::from(format!("--{flag}"));
        if let Some(v) = value {
            a.push("=");
            a.push(v);
        }
        argv.push(a);
    }
    for (k, v) in &pairs {
        argv.push(format!("--{k}={v}").into());
    }
    let label = || {
        let p: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        p.join(" ")
    };
    for (key, flag) in CONFLICTS {
        let kept = given.iter().any(|(g, _)| g == flag)
            && !pairs.iter().any(|(k, _)| k == flag)
            && !dropped(flag);
        if kept && pairs.iter().any(|(k, _)| k == key) {
            bail!(
                "--vary {}: the baseline gives --{flag}, which conflicts with --{key} (a model \
                 names its own parameter count); vary --{flag} instead, give the baseline \
                 --{key} in place of --{flag}, or set both in one compound variant \
                 ('{key}=V&...')",
                label()
            );
        }
    }
    for (s, flag, keys) in OVERRIDES {
        let kept = given.iter().any(|(g, _)| g == flag) && !pairs.iter().any(|(k, _)| k == flag);
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, _)| s == sub && kept && keys.contains(&k.as_str()))
        {
            bail!(
                "--vary {}: the baseline gives --{flag}, which replaces what --{k} feeds, so this \
                 variant would change nothing; drop --{flag} to compare values of --{k}",
                label()
            );
        }
    }
    let cli =
        Cli::try_parse_from(argv).map_err(|e| anyhow!("--vary {}: {}", label(), clap_line(&e)))?;
    match cli.command {
        Command::Estimate(cmd) => Ok(Variant {
            pairs,
            replaced,
            cmd: *cmd,
        }),
        _ => bail!("--vary {}: not an estimate", label()),
    }
}

/// A clap error as one line: its first paragraph, without `error: ` and the help tip.
fn clap_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.split("\n\n").next().unwrap_or(&text);
    first
        .trim_start_matches("error: ")
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer_keys() -> Vec<String> {
        let root = Cli::command();
        let sub = root
            .find_subcommand("estimate")
            .and_then(|e| e.find_subcommand("infer"))
            .expect("infer");
        keys(sub)
    }

    #[test]
    fn the_keys_are_the_input_flags() {
        let k = infer_keys();
        for want in [
            "precision",
            "gpu",
            "gpus",
            "model",
            "params",
            "active-params",
            "grid",
            "intensity",
            "pue",
            "cooling",
            "datacenter",
            "batch",
            "input-tokens",
            "output-tokens",
            "mfu",
            "mbu",
            "utilization",
        ] {
            assert!(k.iter().any(|x| x == want), "{want} missing from {k:?}");
        }
        for not in [
            "json",
            "format",
            "samples",
            "seed",
            "compare",
            "vary",
            "cross",
            "catalog",
            "config",
            "max-carbon",
            "explain",
            "series-fallback",
        ] {
            assert!(!k.iter().any(|x| x == not), "{not} is no key");
        }
    }

    #[test]
    fn items_are_checked() {
        let k = infer_keys();
        let err = |s: &str| parse_one(s, &k, "infer").expect_err(s).to_string();
        assert!(err("gird=FR").contains("unknown key `gird`"));
        assert!(err("gird=FR").contains("pue"));
        assert!(err("pue=").contains("no values"));
        assert!(err("pue").contains("no values"));
        assert!(err("pue=1.1,,1.2").contains("value 2 of pue is empty"));
        assert!(err("=1.1").contains("no key"));
        let (key, values) = parse_one("--pue=1.1, 1.3", &k, "infer").expect("ok");
        assert_eq!(
            (key.as_str(), values),
            ("pue", vec!["1.1".to_string(), "1.3".to_string()])
        );
    }

    #[test]
    fn semicolons_separate_values_that_hold_commas() {
        let root = Cli::command();
        let sub = root
            .find_subcommand("estimate")
            .and_then(|e| e.find_subcommand("datacenter"))
            .expect("datacenter");
        let k = keys(sub);
        let one = |s: &str| parse_one(s, &k, "datacenter").expect(s).1;
        // A breakdown's commas are inside its one value.
        assert_eq!(
            one("breakdown=it=0.8,cooling=0.15,power=0.05"),
            ["it=0.8,cooling=0.15,power=0.05"]
        );
        assert_eq!(
            one("breakdown=it=0.8,cooling=0.15,power=0.05; it=0.7,cooling=0.2,power=0.1"),
            [
                "it=0.8,cooling=0.15,power=0.05",
                "it=0.7,cooling=0.2,power=0.1"
            ]
        );
        // Any key may take `;`; commas still split the others.
        assert_eq!(one("pue=1.1;1.3"), ["1.1", "1.3"]);
        assert_eq!(one("pue=1.1,1.3"), ["1.1", "1.3"]);
        let e = parse_one("breakdown=it=1;;it=0.9,cooling=0.1", &k, "datacenter")
            .expect_err("empty")
            .to_string();
        assert!(
            e.contains("value 2 of breakdown is empty; remove the extra semicolon"),
            "{e}"
        );
    }
}
