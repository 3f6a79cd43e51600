//! `wattlens.footprint/v1`: a [`Report`] as one JSON object with sorted keys — `schema`, `kind`,
//! `method`, every figure of the table by its key (`facility_energy_kwh`: P5/P50/P95; `cost`
//! with its `currency`), `components` and `equivalents` with their values, the details of the
//! kind flat beside them, the explanation and the sampling facts. Reading it back is lenient
//! where older files were (no `carbon_basis`: annual; no currency: USD) and strict about what
//! it cannot place (an unknown kind, component or equivalent).

use super::report::{ComponentInfo, Equivalent, Report, ReportKind, SCHEMA};
use super::{DatacenterDetails, Details, HardwareDetails, RunDetails};
use crate::energy::{ComponentKind, Method};
use crate::figure::{Figure, Group};
use crate::grid::CarbonBasis;
use crate::uncertainty::Percentiles;
use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// A component as the JSON lists it.
#[derive(Serialize, Deserialize)]
struct ComponentWire {
    name: String,
    kind: ComponentKind,
    method: Method,
    energy_kwh: Percentiles,
}

/// An equivalent as the JSON lists it (`name` without the `eq.` of its figure).
#[derive(Serialize, Deserialize)]
struct EquivalentWire {
    name: String,
    description: String,
    unit: String,
    value: Percentiles,
    source: String,
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fn v<T: Serialize + ?Sized, E: serde::ser::Error>(x: &T) -> Result<Value, E> {
            serde_json::to_value(x).map_err(E::custom)
        }
        let mut o: BTreeMap<String, Value> = BTreeMap::new();
        o.insert("schema".into(), v(SCHEMA)?);
        o.insert("kind".into(), v(&self.kind)?);
        o.insert("method".into(), v(&self.method)?);
        for (f, p) in self
            .figures
            .iter()
            .filter(|(f, _)| f.group() == Group::Table)
        {
            let mut x = v(p)?;
            if let (Figure::Cost, Value::Object(m)) = (f, &mut x) {
                m.insert("currency".into(), Value::String(self.currency.clone()));
            }
            o.insert(f.key().into(), x);
        }
        o.insert("intensity_scope".into(), v(&self.intensity_scope)?);
        o.insert("carbon_basis".into(), v(&self.carbon_basis)?);
        let components: Vec<ComponentWire> = self
            .components
            .iter()
            .filter_map(|c| {
                self.get(c.key).map(|p| ComponentWire {
                    name: c.name.into(),
                    kind: c.kind,
                    method: c.method,
                    energy_kwh: p,
                })
            })
            .collect();
        o.insert("components".into(), v(&components)?);
        let equivalents: Vec<EquivalentWire> = self
            .equivalents
            .iter()
            .filter_map(|q| {
                self.get(q.figure).map(|p| EquivalentWire {
                    name: q.figure.key().trim_start_matches("eq.").into(),
                    description: q.description.clone(),
                    unit: q.unit.into(),
                    value: p,
                    source: q.source.clone(),
                })
            })
            .collect();
        o.insert("equivalents".into(), v(&equivalents)?);
        if !self.published.is_empty() {
            o.insert("published".into(), v(&self.published)?);
        }
        match v(&self.details)? {
            Value::Object(m) => o.extend(m),
            Value::Null => {}
            _ => return Err(S::Error::custom("details are not an object")),
        }
        o.insert("assumptions".into(), v(&self.assumptions)?);
        o.insert("steps".into(), v(&self.steps)?);
        o.insert("notes".into(), v(&self.notes)?);
        o.insert("samples".into(), v(&self.samples)?);
        o.insert("seed".into(), v(&self.seed)?);
        o.serialize(s)
    }
}

/// Takes `key` from `o` as a `T`: `None` when absent or `null`.
fn take<T: DeserializeOwned, E: serde::de::Error>(
    o: &mut BTreeMap<String, Value>,
    key: &str,
) -> Result<Option<T>, E> {
    match o.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => serde_json::from_value(x)
            .map(Some)
            .map_err(|e| E::custom(format!("{key}: {e}"))),
    }
}

impl<'de> Deserialize<'de> for Report {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut o = BTreeMap::<String, Value>::deserialize(d)?;
        let schema: Option<String> = take(&mut o, "schema")?;
        if schema.as_deref() != Some(SCHEMA) {
            return Err(D::Error::custom(format!(
                "not a {SCHEMA} object (its \"schema\" is {})",
                schema.map_or_else(|| "missing".into(), |s| format!("{s:?}"))
            )));
        }
        let kind: ReportKind =
            take(&mut o, "kind")?.ok_or_else(|| D::Error::missing_field("kind"))?;
        let method: Method =
            take(&mut o, "method")?.ok_or_else(|| D::Error::missing_field("method"))?;
        let mut figures = Vec::new();
        let mut currency = "USD".to_string();
        for f in Figure::table() {
            if f == Figure::Cost {
                if let Some(Value::String(c)) = o.get("cost").and_then(|c| c.get("currency")) {
                    currency.clone_from(c);
                }
            }
            if let Some(p) = take::<Percentiles, D::Error>(&mut o, f.key())? {
                figures.push((f, p));
            }
        }
        let mut components = Vec::new();
        for c in take::<Vec<ComponentWire>, D::Error>(&mut o, "components")?.unwrap_or_default() {
            let key = Figure::ALL
                .iter()
                .copied()
                .find(|f| f.group() == Group::Component && f.label() == c.name)
                .ok_or_else(|| D::Error::custom(format!("unknown component {:?}", c.name)))?;
            figures.push((key, c.energy_kwh));
            components.push(ComponentInfo::new(key, c.kind, c.method));
        }
        let mut equivalents = Vec::new();
        for q in take::<Vec<EquivalentWire>, D::Error>(&mut o, "equivalents")?.unwrap_or_default() {
            let figure = Figure::from_key(&format!("eq.{}", q.name))
                .filter(|f| f.group() == Group::Equivalent)
                .ok_or_else(|| D::Error::custom(format!("unknown equivalent {:?}", q.name)))?;
            figures.push((figure, q.value));
            equivalents.push(Equivalent {
                figure,
                description: q.description,
                unit: figure.unit(),
                source: q.source,
            });
        }
        let rest = Value::Object(
            [
                "intensity_scope",
                "carbon_basis",
                "published",
                "assumptions",
                "steps",
            ]
            .iter()
            .fold(o.clone(), |mut m, k| {
                m.remove(*k);
                m
            })
            .into_iter()
            .collect(),
        );
        let details = |r: Value| -> Result<Details, D::Error> {
            let e = |e: serde_json::Error| D::Error::custom(format!("{kind} details: {e}"));
            Ok(match kind {
                ReportKind::Train => {
                    Details::Train(serde_json::from_value::<HardwareDetails>(r).map_err(e)?)
                }
                ReportKind::Infer => {
                    Details::Infer(serde_json::from_value::<HardwareDetails>(r).map_err(e)?)
                }
                ReportKind::Datacenter => {
                    Details::Datacenter(serde_json::from_value::<DatacenterDetails>(r).map_err(e)?)
                }
                ReportKind::Run => Details::Run(Box::new(
                    serde_json::from_value::<RunDetails>(r).map_err(e)?,
                )),
                ReportKind::Fleet => {
                    let f = serde_json::from_value::<super::FleetDetails>(r).map_err(e)?;
                    if f.trajectory.is_some() {
                        Details::Fleet(Box::new(f))
                    } else {
                        Details::default()
                    }
                }
            })
        };
        Ok(Report {
            kind,
            details: details(rest)?,
            figures,
            steps: take(&mut o, "steps")?.unwrap_or_default(),
            assumptions: take(&mut o, "assumptions")?.unwrap_or_default(),
            published: take(&mut o, "published")?.unwrap_or_default(),
            notes: take(&mut o, "notes")?.unwrap_or_default(),
            samples: take(&mut o, "samples")?.unwrap_or(1),
            seed: take(&mut o, "seed")?.unwrap_or_default(),
            currency,
            intensity_scope: take(&mut o, "intensity_scope")?.unwrap_or_default(),
            carbon_basis: take(&mut o, "carbon_basis")?.unwrap_or(CarbonBasis::Annual),
            equivalents,
            method,
            components,
        })
    }
}
