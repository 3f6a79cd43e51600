#!/usr/bin/env python3
"""Build crates/wattlens/data/grids.csv and crates/wattlens/data/ewif.csv.

Stdlib only. Reproducible: every number comes from an upstream file listed
below, read from a local data directory laid out as below (default: a
`shared/data` folder beside the repository checkout; override with
WATTLENS_SHARED_DATA=...), or from a hand-curated constant below that names
its source.

Usage:  python3 crates/wattlens/data/build/grids.py   (from the repo root)

Inputs, with their upstream sources (licences and attribution:
crates/wattlens/data/SOURCES.md):
  upstream/codecarbon/global_energy_mix.json        Ember / OWID (CC BY 4.0) via codecarbon (MIT),
      https://github.com/mlco2/codecarbon, codecarbon/data/private_infra/global_energy_mix.json
  upstream/codecarbon/carbon_intensity_per_source.json  codecarbon (MIT): world 475 g/kWh (IEA),
      same repository, codecarbon/data/private_infra/carbon_intensity_per_source.json
  upstream/codecarbon/nordic_emissions.json         codecarbon (MIT), same repository
  upstream/codecarbon/water_consumption_per_source.json  codecarbon branch feat/water_consumption (MIT); Macknick et al. 2013
  upstream/google-region-carbon-info/20{22,23,24,25}.csv  Google (Apache-2.0),
      https://github.com/GoogleCloudPlatform/region-carbon-info, data/yearly/
  upstream/mlco2-impact/impact.csv                  mlco2/impact (MIT): AWS/Azure region -> country/state,
      https://github.com/mlco2/impact, data/impact.csv
  compiled/egrid2022_subregions.csv                 US EPA eGRID2022 (public domain), subregion output
      emission rates transcribed from https://www.epa.gov/egrid (eGRID2022 summary tables)
  compiled/china_mee_2022_electricity_co2_factors.csv  China MEE + NBS 2022 factors (Ministry of
      Ecology and Environment announcement of the 2022 national and provincial electricity CO2
      emission factors), transcribed

Water (ewif_l_per_kwh) derivation for country rows
--------------------------------------------------
EWIF = sum_f(TWh_f * w_f) / sum_f(TWh_f covered)   [L/kWh]
  * TWh_f: per-source generation of the country in global_energy_mix.json
    (coal, gas, oil, nuclear, hydroelectricity, solar, wind, biofuel,
    other_renewable_exc_biofuel).
  * w_f (operational consumption, Macknick et al. 2013 via codecarbon's
    water_consumption_per_source.json, gal/MWh * 3.78541 / 1000 -> L/kWh):
    coal 550, gas 210, nuclear 775, solar 85, wind 11 gal/MWh;
    geothermal 290 gal/MWh is applied to other_renewable_exc_biofuel
    (which is mostly geothermal; assumption, documented).
  * hydroelectricity: reservoir evaporation, Lampert, Lee, Cai & Elgowainy
    (Argonne National Laboratory), "Analysis of Water Consumption
    Associated with Hydroelectric Power Generation in the United States":
    US production-weighted average 9.85 gal/kWh = 37.29 L/kWh (run-of-river
    ~0, dedicated reservoirs 10.2 gal/kWh, multipurpose reservoirs
    allocated). Alternative published averages are listed in ewif.csv
    (Mekonnen & Hoekstra 2012: 68 m3/GJ = 244.8 L/kWh, gross evaporation of
    35 plants). Set HYDRO_L_PER_KWH = None to exclude hydro.
  * oil and biofuel: no factor in the source file; treated as codecarbon
    does ("treat as in the source"): they are left out and the average of
    the covered sources is applied to them (division by covered TWh).
    If covered sources are < 50 % of total generation the cell is left
    EMPTY (the code then falls back to the world row). codecarbon uses a
    90 % threshold (MIN_ENERGY_MIX_COVERAGE) but its newer data has oil and
    biofuel factors; with the file we have, 90 % would blank 114 countries
    incl. DE, GB, IT, NL, so 50 % is used: the uncovered (mostly oil and
    biofuel thermal) share gets the covered average.
  * world row: same formula on the sum of all country mixes.
Rows other than country/world leave ewif empty: they inherit from their
parent or country in the code.
"""
import csv
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.dirname(HERE)  # crates/wattlens/data
# shared/data sits beside the repository checkout (../shared/data from the repo root).
SHARED = os.environ.get("WATTLENS_SHARED_DATA", os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 5, "shared", "data")))

GAL_TO_L = 3.78541
M3_PER_TJ_TO_L_PER_KWH = 1000.0 / 277777.78  # 1 TJ = 277,777.78 kWh
HYDRO_L_PER_KWH = round(9.85 * GAL_TO_L, 2)  # Lampert et al. (Argonne), 37.29
MIN_COVERAGE = 0.5  # codecarbon uses 0.9; see docstring

HEADER = ["key", "aliases", "kind", "name", "country", "parent",
          "intensity_g_per_kwh", "intensity_low", "intensity_high", "year",
          "scope", "gas", "cfe_share", "ewif_l_per_kwh", "generation_twh", "source", "licence"]

# ISO 3166-1 alpha-3 -> alpha-2 (facts, ISO 3166-1), for the 213 entries of
# global_energy_mix.json.
ISO3_TO_ISO2 = {
    "ABW": "AW", "AFG": "AF", "AGO": "AO", "ALB": "AL", "ARE": "AE", "ARG": "AR",
    "ARM": "AM", "ASM": "AS", "ATG": "AG", "AUS": "AU", "AUT": "AT", "AZE": "AZ",
    "BDI": "BI", "BEL": "BE", "BEN": "BJ", "BFA": "BF", "BGD": "BD", "BGR": "BG",
    "BHR": "BH", "BHS": "BS", "BIH": "BA", "BLR": "BY", "BLZ": "BZ", "BMU": "BM",
    "BOL": "BO", "BRA": "BR", "BRB": "BB", "BRN": "BN", "BTN": "BT", "BWA": "BW",
    "CAF": "CF", "CAN": "CA", "CHE": "CH", "CHL": "CL", "CHN": "CN", "CIV": "CI",
    "CMR": "CM", "COD": "CD", "COG": "CG", "COK": "CK", "COL": "CO", "COM": "KM",
    "CPV": "CV", "CRI": "CR", "CUB": "CU", "CYM": "KY", "CYP": "CY", "CZE": "CZ",
    "DEU": "DE", "DJI": "DJ", "DMA": "DM", "DNK": "DK", "DOM": "DO", "DZA": "DZ",
    "ECU": "EC", "EGY": "EG", "ERI": "ER", "ESH": "EH", "ESP": "ES", "EST": "EE",
    "ETH": "ET", "FIN": "FI", "FJI": "FJ", "FLK": "FK", "FRA": "FR", "FRO": "FO",
    "GAB": "GA", "GBR": "GB", "GEO": "GE", "GHA": "GH", "GIB": "GI", "GIN": "GN",
    "GLP": "GP", "GMB": "GM", "GNB": "GW", "GNQ": "GQ", "GRC": "GR", "GRD": "GD",
    "GRL": "GL", "GTM": "GT", "GUF": "GF", "GUM": "GU", "GUY": "GY", "HKG": "HK",
    "HND": "HN", "HRV": "HR", "HTI": "HT", "HUN": "HU", "IDN": "ID", "IND": "IN",
    "IRL": "IE", "IRN": "IR", "IRQ": "IQ", "ISL": "IS", "ISR": "IL", "ITA": "IT",
    "JAM": "JM", "JOR": "JO", "JPN": "JP", "KAZ": "KZ", "KEN": "KE", "KGZ": "KG",
    "KHM": "KH", "KIR": "KI", "KNA": "KN", "KOR": "KR", "KWT": "KW", "LAO": "LA",
    "LBN": "LB", "LBR": "LR", "LBY": "LY", "LCA": "LC", "LKA": "LK", "LSO": "LS",
    "LTU": "LT", "LUX": "LU", "LVA": "LV", "MAC": "MO", "MAR": "MA", "MDA": "MD",
    "MDG": "MG", "MDV": "MV", "MEX": "MX", "MKD": "MK", "MLI": "ML", "MLT": "MT",
    "MMR": "MM", "MNE": "ME", "MNG": "MN", "MOZ": "MZ", "MRT": "MR", "MSR": "MS",
    "MTQ": "MQ", "MUS": "MU", "MWI": "MW", "MYS": "MY", "NAM": "NA", "NCL": "NC",
    "NER": "NE", "NGA": "NG", "NIC": "NI", "NLD": "NL", "NOR": "NO", "NPL": "NP",
    "NRU": "NR", "NZL": "NZ", "OMN": "OM", "PAK": "PK", "PAN": "PA", "PER": "PE",
    "PHL": "PH", "PNG": "PG", "POL": "PL", "PRI": "PR", "PRK": "KP", "PRT": "PT",
    "PRY": "PY", "PSE": "PS", "PYF": "PF", "QAT": "QA", "REU": "RE", "ROU": "RO",
    "RUS": "RU", "RWA": "RW", "SAU": "SA", "SDN": "SD", "SEN": "SN", "SGP": "SG",
    "SHN": "SH", "SLB": "SB", "SLE": "SL", "SLV": "SV", "SOM": "SO", "SPM": "PM",
    "SRB": "RS", "SSD": "SS", "STP": "ST", "SUR": "SR", "SVK": "SK", "SVN": "SI",
    "SWE": "SE", "SWZ": "SZ", "SYC": "SC", "SYR": "SY", "TCA": "TC", "TCD": "TD",
    "TGO": "TG", "THA": "TH", "TJK": "TJ", "TKM": "TM", "TLS": "TL", "TON": "TO",
    "TTO": "TT", "TUN": "TN", "TUR": "TR", "TWN": "TW", "TZA": "TZ", "UGA": "UG",
    "UKR": "UA", "URY": "UY", "USA": "US", "UZB": "UZ", "VCT": "VC", "VEN": "VE",
    "VGB": "VG", "VIR": "VI", "VNM": "VN", "VUT": "VU", "WSM": "WS", "YEM": "YE",
    "ZAF": "ZA", "ZMB": "ZM", "ZWE": "ZW",
}
EXTRA_COUNTRY_ALIASES = {"GB": ["UK"]}

# Google Cloud region location (column 2 of Google's CSV) -> ISO alpha-2.
GCP_LOCATION_TO_ISO2 = {
    "Johannesburg": "ZA", "Taiwan": "TW", "Hong Kong": "HK", "Tokyo": "JP",
    "Osaka": "JP", "Seoul": "KR", "Mumbai": "IN", "Delhi": "IN",
    "Singapore": "SG", "Jakarta": "ID", "Bangkok": "TH", "Sydney": "AU",
    "Melbourne": "AU", "Warsaw": "PL", "Finland": "FI", "Stockholm": "SE",
    "Madrid": "ES", "Belgium": "BE", "London": "GB", "Frankfurt": "DE",
    "Eemshaven": "NL", "Netherlands": "NL", "Zürich": "CH", "Zurich": "CH",
    "Milan": "IT", "Paris": "FR", "Berlin": "DE", "Turin": "IT", "Doha": "QA",
    "Dammam": "SA", "Tel Aviv": "IL", "Montréal": "CA", "Toronto": "CA",
    "Mexico": "MX", "São Paulo": "BR", "Sāo Paulo": "BR", "Santiago": "CL",
    "Iowa": "US", "Oklahoma": "US", "South Carolina": "US", "Georgia": "US",
    "Northern Virginia": "US", "Columbus": "US", "Alabama and Tennessee": "US",
    "Dallas": "US", "Oregon": "US", "Los Angeles": "US",
    "Salt Lake City": "US", "Las Vegas": "US",
    # "N/A" (europe-west5 in 2025.csv): location not published -> country empty.
}

# Hand-curated cloud regions without own intensity: (key, name, country, parent, in_mlco2, note)
# Locations: provider region documentation (facts); US eGRID subregion of the
# utility serving the location (EPA eGRID2022 subregion map / Power Profiler).
AWS_REGIONS = [
    ("us-east-1", "AWS US East (N. Virginia)", "US", "us-egrid:SRVC"),
    ("us-east-2", "AWS US East (Ohio)", "US", "us-egrid:RFCW"),
    ("us-west-1", "AWS US West (N. California)", "US", "us-egrid:CAMX"),
    ("us-west-2", "AWS US West (Oregon)", "US", "us-egrid:NWPP"),
    ("us-gov-east-1", "AWS GovCloud (US-East) Ohio", "US", "us-egrid:RFCW"),
    ("us-gov-west-1", "AWS GovCloud (US-West) Pacific Northwest", "US", "us-egrid:NWPP"),
    ("ca-central-1", "AWS Canada (Central) Montreal", "CA", "CA"),
    ("ca-west-1", "AWS Canada West (Calgary)", "CA", "CA"),
    ("mx-central-1", "AWS Mexico (Central)", "MX", "MX"),
    ("sa-east-1", "AWS South America (Sao Paulo)", "BR", "BR"),
    ("eu-west-1", "AWS Europe (Ireland)", "IE", "IE"),
    ("eu-west-2", "AWS Europe (London)", "GB", "GB"),
    ("eu-west-3", "AWS Europe (Paris)", "FR", "FR"),
    ("eu-central-1", "AWS Europe (Frankfurt)", "DE", "DE"),
    ("eu-central-2", "AWS Europe (Zurich)", "CH", "CH"),
    ("eu-north-1", "AWS Europe (Stockholm)", "SE", "se:SE3"),
    ("eu-south-1", "AWS Europe (Milan)", "IT", "IT"),
    ("eu-south-2", "AWS Europe (Spain)", "ES", "ES"),
    ("il-central-1", "AWS Israel (Tel Aviv)", "IL", "IL"),
    ("me-south-1", "AWS Middle East (Bahrain)", "BH", "BH"),
    ("me-central-1", "AWS Middle East (UAE)", "AE", "AE"),
    ("af-south-1", "AWS Africa (Cape Town)", "ZA", "ZA"),
    ("ap-east-1", "AWS Asia Pacific (Hong Kong)", "HK", "HK"),
    ("ap-south-1", "AWS Asia Pacific (Mumbai)", "IN", "IN"),
    ("ap-south-2", "AWS Asia Pacific (Hyderabad)", "IN", "IN"),
    ("ap-northeast-1", "AWS Asia Pacific (Tokyo)", "JP", "JP"),
    ("ap-northeast-2", "AWS Asia Pacific (Seoul)", "KR", "KR"),
    ("ap-northeast-3", "AWS Asia Pacific (Osaka)", "JP", "JP"),
    ("ap-southeast-1", "AWS Asia Pacific (Singapore)", "SG", "SG"),
    ("ap-southeast-2", "AWS Asia Pacific (Sydney)", "AU", "AU"),
    ("ap-southeast-3", "AWS Asia Pacific (Jakarta)", "ID", "ID"),
    ("ap-southeast-4", "AWS Asia Pacific (Melbourne)", "AU", "AU"),
    ("ap-southeast-5", "AWS Asia Pacific (Malaysia)", "MY", "MY"),
    ("ap-southeast-7", "AWS Asia Pacific (Thailand)", "TH", "TH"),
    ("cn-north-1", "AWS China (Beijing)", "CN", "cn-north"),
    ("cn-northwest-1", "AWS China (Ningxia)", "CN", "cn-northwest"),
]
AZURE_REGIONS = [
    ("eastus", "Azure East US (Virginia)", "US", "us-egrid:SRVC"),
    ("eastus2", "Azure East US 2 (Virginia)", "US", "us-egrid:SRVC"),
    ("centralus", "Azure Central US (Iowa)", "US", "us-egrid:MROW"),
    ("northcentralus", "Azure North Central US (Illinois)", "US", "us-egrid:RFCW"),
    ("southcentralus", "Azure South Central US (Texas)", "US", "us-egrid:ERCT"),
    ("westus", "Azure West US (California)", "US", "us-egrid:CAMX"),
    ("westus2", "Azure West US 2 (Washington)", "US", "us-egrid:NWPP"),
    ("westus3", "Azure West US 3 (Arizona)", "US", "us-egrid:AZNM"),
    ("westcentralus", "Azure West Central US (Wyoming)", "US", "us-egrid:RMPA"),
    ("usgovvirginia", "Azure US Gov Virginia", "US", "us-egrid:SRVC"),
    ("usgovarizona", "Azure US Gov Arizona", "US", "us-egrid:AZNM"),
    ("usgovtexas", "Azure US Gov Texas", "US", "us-egrid:ERCT"),
    ("canadacentral", "Azure Canada Central (Toronto)", "CA", "CA"),
    ("canadaeast", "Azure Canada East (Quebec City)", "CA", "CA"),
    ("brazilsouth", "Azure Brazil South (Sao Paulo)", "BR", "BR"),
    ("brazilsoutheast", "Azure Brazil Southeast (Rio de Janeiro)", "BR", "BR"),
    ("mexicocentral", "Azure Mexico Central (Queretaro)", "MX", "MX"),
    ("northeurope", "Azure North Europe (Ireland)", "IE", "IE"),
    ("westeurope", "Azure West Europe (Netherlands)", "NL", "NL"),
    ("uksouth", "Azure UK South (London)", "GB", "GB"),
    ("ukwest", "Azure UK West (Cardiff)", "GB", "GB"),
    ("francecentral", "Azure France Central (Paris)", "FR", "FR"),
    ("francesouth", "Azure France South (Marseille)", "FR", "FR"),
    ("germanywestcentral", "Azure Germany West Central (Frankfurt)", "DE", "DE"),
    ("germanynorth", "Azure Germany North (Berlin)", "DE", "DE"),
    ("switzerlandnorth", "Azure Switzerland North (Zurich)", "CH", "CH"),
    ("switzerlandwest", "Azure Switzerland West (Geneva)", "CH", "CH"),
    ("norwayeast", "Azure Norway East (Oslo)", "NO", "no:NO1"),
    ("norwaywest", "Azure Norway West (Stavanger)", "NO", "no:NO2"),
    ("swedencentral", "Azure Sweden Central (Gavle/Sandviken)", "SE", "se:SE3"),
    ("polandcentral", "Azure Poland Central (Warsaw)", "PL", "PL"),
    ("italynorth", "Azure Italy North (Milan)", "IT", "IT"),
    ("spaincentral", "Azure Spain Central (Madrid)", "ES", "ES"),
    ("uaenorth", "Azure UAE North (Dubai)", "AE", "AE"),
    ("uaecentral", "Azure UAE Central (Abu Dhabi)", "AE", "AE"),
    ("qatarcentral", "Azure Qatar Central (Doha)", "QA", "QA"),
    ("israelcentral", "Azure Israel Central", "IL", "IL"),
    ("southafricanorth", "Azure South Africa North (Johannesburg)", "ZA", "ZA"),
    ("southafricawest", "Azure South Africa West (Cape Town)", "ZA", "ZA"),
    ("eastasia", "Azure East Asia (Hong Kong)", "HK", "HK"),
    ("southeastasia", "Azure Southeast Asia (Singapore)", "SG", "SG"),
    ("japaneast", "Azure Japan East (Tokyo/Saitama)", "JP", "JP"),
    ("japanwest", "Azure Japan West (Osaka)", "JP", "JP"),
    ("koreacentral", "Azure Korea Central (Seoul)", "KR", "KR"),
    ("koreasouth", "Azure Korea South (Busan)", "KR", "KR"),
    ("centralindia", "Azure Central India (Pune)", "IN", "IN"),
    ("southindia", "Azure South India (Chennai)", "IN", "IN"),
    ("westindia", "Azure West India (Mumbai)", "IN", "IN"),
    ("jioindiawest", "Azure Jio India West (Jamnagar)", "IN", "IN"),
    ("jioindiacentral", "Azure Jio India Central (Nagpur)", "IN", "IN"),
    ("australiaeast", "Azure Australia East (New South Wales)", "AU", "AU"),
    ("australiasoutheast", "Azure Australia Southeast (Victoria)", "AU", "AU"),
    ("australiacentral", "Azure Australia Central (Canberra)", "AU", "AU"),
    ("australiacentral2", "Azure Australia Central 2 (Canberra)", "AU", "AU"),
    ("chinaeast", "Azure China East (Shanghai; 21Vianet)", "CN", "cn-east"),
    ("chinaeast2", "Azure China East 2 (Shanghai; 21Vianet)", "CN", "cn-east"),
    ("chinaeast3", "Azure China East 3 (Shanghai; 21Vianet)", "CN", "cn-east"),
    ("chinanorth", "Azure China North (Beijing; 21Vianet)", "CN", "cn-north"),
    ("chinanorth2", "Azure China North 2 (Beijing; 21Vianet)", "CN", "cn-north"),
    ("chinanorth3", "Azure China North 3 (Hebei; 21Vianet)", "CN", "cn:hebei"),
]

CN_REGION_KEYS = {  # name_en in the compiled file -> (key, aliases)
    "North China grid": ("cn-north", ["North China grid"]),
    "Northwest grid": ("cn-northwest", ["Northwest China grid"]),
    "East China grid": ("cn-east", ["East China grid"]),
    "Northeast grid": ("cn-northeast", ["Northeast China grid"]),
    "Central China grid": ("cn-central", ["Central China grid"]),
    "China Southern grid": ("cn-south", ["China Southern grid"]),
    "Southwest grid": ("cn-southwest", ["Southwest China grid"]),
}
CN_NATIONAL_KEYS = {
    "national": ("cn:national", ["cn-national"], "China national average (MEE)"),
    "national_excl_market_nonfossil": (
        "cn:national-excl-market-nonfossil", [],
        "China national average excl. market-traded non-fossil electricity (MEE)"),
    "national_fossil_only": ("cn:national-fossil", [],
                             "China fossil-fired electricity (MEE)"),
}
CN_SOURCE = ("China MEE & NBS announcement on 2022 electricity CO2 emission "
             "factors (2024-12-20)")
CN_LICENCE = "government data (facts; PRC MEE/NBS)"

# codecarbon's descriptions label SE4 "Stockholm region" and SE3 "Southern
# Sweden"; Stockholm is in SE3 and SE4 is the Malmo zone (Svenska kraftnat
# bidding-zone map), so the Swedish names are set here (facts).
NORDIC_NAMES = {
    "SE1": "Sweden bidding zone SE1 (Lulea; northern Sweden)",
    "SE2": "Sweden bidding zone SE2 (Sundsvall; central-north Sweden)",
    "SE3": "Sweden bidding zone SE3 (Stockholm; central-south Sweden)",
    "SE4": "Sweden bidding zone SE4 (Malmo; southern Sweden)",
}

EMBER_SOURCE = "Ember; Our World in Data (via mlco2/codecarbon global_energy_mix.json)"


def norm(s):
    return re.sub(r"[^a-z0-9]", "", s.lower())


def p(*parts):
    return os.path.join(SHARED, *parts)


def fmt(x, nd=3):
    if x is None or x == "":
        return ""
    s = ("%." + str(nd) + "f") % float(x)
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return s


def water_factors():
    w = json.load(open(p("upstream", "codecarbon", "water_consumption_per_source.json")))
    to_l = lambda gal_per_mwh: gal_per_mwh * GAL_TO_L / 1000.0
    f = {
        "coal_TWh": to_l(w["coal"]),
        "gas_TWh": to_l(w["natural_gas"]),
        "nuclear_TWh": to_l(w["nuclear"]),
        "solar_TWh": to_l(w["solar"]),
        "wind_TWh": to_l(w["wind"]),
        "other_renewable_exc_biofuel_TWh": to_l(w["geothermal"]),  # assumption
    }
    if HYDRO_L_PER_KWH is not None:
        f["hydroelectricity_TWh"] = HYDRO_L_PER_KWH
    return w, f


PRIMARY = ["coal_TWh", "gas_TWh", "oil_TWh", "nuclear_TWh", "hydroelectricity_TWh",
           "solar_TWh", "wind_TWh", "biofuel_TWh", "other_renewable_exc_biofuel_TWh"]


def ewif_of_mix(mix, factors):
    total = mix.get("total_TWh") or 0.0
    if total <= 0:
        return None, 0.0
    covered = 0.0
    water = 0.0
    for src in PRIMARY:
        twh = mix.get(src) or 0.0
        if src in factors:
            covered += twh
            water += twh * factors[src]
    cov = covered / total
    if cov < MIN_COVERAGE or covered <= 0:
        return None, cov
    return water / covered, cov


def row(**kw):
    r = {h: "" for h in HEADER}
    for k, v in kw.items():
        assert k in r, k
        r[k] = "" if v is None else str(v)
    return r


def build():
    rows = []
    gaps = {"ewif_low_coverage": []}
    mixes = json.load(open(p("upstream", "codecarbon", "global_energy_mix.json")))
    w_raw, wf = water_factors()

    # ---- countries
    world_mix = {k: 0.0 for k in PRIMARY + ["total_TWh"]}
    world_co2_g = 0.0  # sum of intensity x generation, for the generation-weighted world mean
    for iso3 in sorted(mixes):
        m = mixes[iso3]
        iso2 = ISO3_TO_ISO2[iso3]
        for k in world_mix:
            world_mix[k] += m.get(k) or 0.0
        world_co2_g += (m.get("carbon_intensity") or 0.0) * (m.get("total_TWh") or 0.0)
        ew, cov = ewif_of_mix(m, wf)
        if ew is None:
            gaps["ewif_low_coverage"].append("%s (%s; covered %.0f%%)" % (iso2, m["country_name"], cov * 100))
        aliases = [iso3, m["country_name"]] + EXTRA_COUNTRY_ALIASES.get(iso2, [])
        rows.append(row(key=iso2, aliases="|".join(aliases), kind="country",
                        name=m["country_name"], country=iso2,
                        intensity_g_per_kwh=fmt(m["carbon_intensity"]), year=m["year"],
                        scope="lifecycle", gas="co2e", ewif_l_per_kwh=fmt(ew),
                        generation_twh=fmt(m.get("total_TWh")),
                        source=EMBER_SOURCE, licence="CC BY 4.0"))

    # ---- world: generation-weighted mean of the country rows, so that it has the same
    # scope (lifecycle CO2e, Ember) as they do; IEA's combustion-only 475 g/kWh (2018) is kept
    # as the low end of the range.
    ci = json.load(open(p("upstream", "codecarbon", "carbon_intensity_per_source.json")))
    world_ew, _ = ewif_of_mix(world_mix, wf)
    world_ci = world_co2_g / world_mix["total_TWh"]
    rows.append(row(key="world", aliases="global|wld", kind="world", name="World average",
                    intensity_g_per_kwh=fmt(world_ci),
                    intensity_low=fmt(min(world_ci, ci["world_average"])),
                    intensity_high=fmt(max(world_ci, ci["world_average"])), year=2023,
                    scope="lifecycle", gas="co2e", ewif_l_per_kwh=fmt(world_ew),
                    generation_twh=fmt(world_mix["total_TWh"]),
                    source=("derived: generation-weighted mean of the country rows (" + EMBER_SOURCE +
                            "); range down to IEA Global Energy & CO2 Status Report 2019 direct "
                            "CO2 475 g/kWh (via codecarbon carbon_intensity_per_source.json); ewif "
                            "derived from the summed country mixes"),
                    licence="CC BY 4.0"))

    # ---- eGRID
    with open(p("compiled", "egrid2022_subregions.csv"), newline="") as fh:
        for r in csv.DictReader(fh):
            sub = r["subregion"]
            if sub == "US":
                key, aliases = "us-egrid:US", ["us-egrid-average", "egrid-us"]
            else:
                key, aliases = "us-egrid:" + sub, [sub, "egrid-" + sub]
            rows.append(row(key=key, aliases="|".join(aliases), kind="egrid",
                            name="eGRID2022 " + r["name"], country="US",
                            intensity_g_per_kwh=fmt(r["co2e_g_per_kwh_ar5"], 1), year=2022,
                            scope="direct", gas="co2e",
                            source="US EPA eGRID2022 subregion output emission rates (CO2e; AR5 GWPs)",
                            licence="public domain (US EPA)"))

    # ---- China MEE 2022
    with open(p("compiled", "china_mee_2022_electricity_co2_factors.csv"), newline="") as fh:
        for r in csv.DictReader(fh):
            g = round(float(r["kgco2_per_kwh"]) * 1000.0, 1)
            lvl = r["level"]
            if lvl in CN_NATIONAL_KEYS:
                key, aliases, name = CN_NATIONAL_KEYS[lvl]
            elif lvl == "region":
                key, aliases = CN_REGION_KEYS[r["name_en"]]
                aliases = ["cn:" + key[3:]] + aliases
                name = r["name_en"] + " (MEE)"
            elif lvl == "province":
                slug = r["name_en"].lower().replace(" ", "-")
                key, aliases, name = "cn:" + slug, [r["name_en"]], r["name_en"] + " province (MEE)"
            else:
                raise SystemExit("unknown level " + lvl)
            rows.append(row(key=key, aliases="|".join(aliases), kind="cn-grid", name=name,
                            country="CN", intensity_g_per_kwh=fmt(g, 1), year=r["data_year"],
                            scope="direct", gas="co2", source=CN_SOURCE, licence=CN_LICENCE))

    # ---- Nordic zones
    nd = json.load(open(p("upstream", "codecarbon", "nordic_emissions.json")))
    for zone, v in nd["data"].items():
        assert v["unit"] == "gCO2eq/kWh", v
        cc = zone[:2]
        key = "%s:%s" % (cc.lower(), zone)
        aliases = [zone] if zone != cc else []
        rows.append(row(key=key, aliases="|".join(aliases), kind="nordic-zone",
                        name=NORDIC_NAMES.get(zone, v["description"]), country=cc,
                        intensity_g_per_kwh=fmt(v["emission_factor"]), year=v["year"],
                        scope="unspecified", gas="co2e",
                        source="codecarbon nordic_emissions.json (" + nd["metadata"]["source"] + ")",
                        licence="MIT (codecarbon)"))

    # ---- GCP
    years = {}
    for y in (2022, 2023, 2024, 2025):
        with open(p("upstream", "google-region-carbon-info", "%d.csv" % y), newline="", encoding="utf-8") as fh:
            rd = csv.reader(fh)
            hdr = next(rd)
            assert "Grid carbon intensity" in hdr[3], hdr
            years[y] = {r[0]: r for r in rd if r}
    regions = sorted(set(years[2022]) | set(years[2023]) | set(years[2024]) | set(years[2025]))
    gaps["gcp_no_country"] = []
    gaps["gcp_2025_only"] = []
    for reg in regions:
        if reg in years[2024]:
            y = 2024
            vals = [float(years[yy][reg][3]) for yy in (2022, 2023, 2024) if reg in years[yy] and years[yy][reg][3]]
            lo, hi = min(vals), max(vals)
        elif reg in years[2025]:
            y = 2025
            lo = hi = None
            gaps["gcp_2025_only"].append(reg)
        else:
            y = max(yy for yy in years if reg in years[yy])
            lo = hi = None
        r = years[y][reg]
        loc = r[1]
        cc = GCP_LOCATION_TO_ISO2.get(loc, "")
        if not cc:
            gaps["gcp_no_country"].append("%s (location %r)" % (reg, loc))
        rows.append(row(key="gcp:" + reg, aliases="", kind="cloud-region",
                        name="Google Cloud %s (%s)" % (reg, loc if loc != "N/A" else "location not published"),
                        country=cc, intensity_g_per_kwh=fmt(r[3], 2),
                        intensity_low=fmt(lo, 2), intensity_high=fmt(hi, 2), year=y,
                        scope="direct", gas="co2e", cfe_share=fmt(r[2], 2),
                        source="Google Cloud region-carbon-info yearly/%d.csv (location-based grid intensity; Google CFE)" % y,
                        licence="Apache-2.0"))

    # ---- AWS / Azure (parent mapping only)
    mlco2 = set()
    with open(p("upstream", "mlco2-impact", "impact.csv"), newline="", encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            if r["provider"] in ("aws", "azure"):
                mlco2.add((r["provider"], r["region"]))
    listed = set()
    for prov, lst in (("aws", AWS_REGIONS), ("azure", AZURE_REGIONS)):
        for reg, name, cc, parent in lst:
            listed.add((prov, reg))
            src = "region location: %s; grid mapping hand-curated (wattlens)" % (
                "mlco2/impact impact.csv + provider region docs" if (prov, reg) in mlco2
                else "provider region docs")
            rows.append(row(key="%s:%s" % (prov, reg),
                            aliases=reg if prov == "azure" else "",
                            kind="cloud-region", name=name, country=cc, parent=parent,
                            source=src,
                            licence="MIT (mlco2/impact)" if (prov, reg) in mlco2 else "facts (mapping)"))
    missing = sorted(mlco2 - listed)
    if missing:
        raise SystemExit("mlco2 regions not covered: %r" % missing)
    return rows, gaps, w_raw, wf


def ewif_rows(w_raw):
    L = lambda gal: round(gal * GAL_TO_L / 1000.0, 4)
    T = lambda m3tj: round(m3tj * M3_PER_TJ_TO_L_PER_KWH, 4)
    mack = "Macknick et al. 2013 ERL 8 015031 via codecarbon water_consumption_per_source.json (MIT)"
    mek15 = "Mekonnen; Gerbens-Leenes & Hoekstra 2015 Environ. Sci.: Water Res. Technol. doi:10.1039/c5ew00026b"
    out = [
        ("coal", L(w_raw["coal"]), L(w_raw["coal"]), 2013, mack, "550 gal/MWh; operational consumption; used in grids.csv derivation"),
        ("natural_gas", L(w_raw["natural_gas"]), L(w_raw["natural_gas"]), 2013, mack, "210 gal/MWh; used in derivation"),
        ("nuclear", L(w_raw["nuclear"]), L(w_raw["nuclear"]), 2013, mack, "775 gal/MWh; used in derivation"),
        ("geothermal", T(7), T(759), 2015, mack + "; " + mek15,
         "codecarbon 290 gal/MWh = %s L/kWh (used in derivation for other_renewable_exc_biofuel); Mekonnen 2015 range 7-759 m3/TJe" % L(w_raw["geothermal"])),
        ("solar", L(w_raw["solar"]), L(w_raw["solar"]), 2013, mack,
         "85 gal/MWh as published by codecarbon for all solar (likely CSP-influenced); used in derivation"),
        ("solar_pv", T(6), T(303), 2015, mek15, "6-303 m3/TJe; consumptive WF incl. supply chain"),
        ("wind", T(0.2), L(w_raw["wind"]), 2015, mack + "; " + mek15,
         "codecarbon 11 gal/MWh = %s L/kWh (used in derivation); Mekonnen 2015 range 0.2-12 m3/TJe" % L(w_raw["wind"])),
        ("hydro", HYDRO_L_PER_KWH, round(68 * 1000 / 277.7778, 1), "",
         "Lampert; Lee; Cai & Elgowainy (Argonne National Laboratory) Analysis of Water Consumption Associated with Hydroelectric Power Generation in the United States; Mekonnen & Hoekstra 2012 HESS 16 179 doi:10.5194/hess-16-179-2012",
         "low = Argonne US production-weighted average 9.85 gal/kWh (used in derivation); high = Mekonnen & Hoekstra 2012 average of 35 plants 68 m3/GJ (gross reservoir evaporation); run-of-river ~0; Mekonnen 2015 plant range 300-850000 m3/TJe"),
        ("biofuel", T(50000), T(500000), 2015, mek15,
         "50000-500000 m3/TJe incl. crop water of fuel supply; NOT used in derivation (oil/biofuel treated as in codecarbon: covered-share average)"),
        ("world_average", L(w_raw["world_average"]), L(w_raw["world_average"]), 2020,
         "codecarbon water_consumption_per_source.json world_average (MDPI Water 12(9):2482)",
         "216.62 gal/MWh as published by codecarbon; scope/coverage of the MDPI figure not verified"),
        ("us-average", 3.14, 3.14, 2023, "Li; Yang; Islam & Ren 2023 Making AI Less Thirsty arXiv:2304.03271",
         "US average EWIF used by the paper; value from a secondary compilation of the paper (to verify against its Table 1)"),
        ("global-weighted", T(4241), T(4241), 2015, mek15,
         "4241 m3/TJe global weighted-average consumptive WF of electricity and heat incl. hydropower reservoirs and fuel supply"),
    ]
    return out


def validate(rows):
    seen = {}
    keys = set(r["key"] for r in rows)
    for r in rows:
        assert len(r) == len(HEADER)
        for h in HEADER:
            v = r[h]
            assert "," not in v and '"' not in v and "\n" not in v, (h, v)
        for h in ("intensity_g_per_kwh", "intensity_low", "intensity_high", "year", "cfe_share", "ewif_l_per_kwh"):
            v = r[h]
            if v:
                assert re.fullmatch(r"-?\d+(\.\d+)?", v), (r["key"], h, v)
        names = [r["key"]] + [a for a in r["aliases"].split("|") if a]
        row_norms = set()
        for i, n in enumerate(names):
            nn = norm(n)
            assert nn, (r["key"], n)
            if nn in row_norms:
                raise SystemExit("alias %r of %s duplicates an earlier name of the same row" % (n, r["key"]))
            row_norms.add(nn)
            if nn in seen:
                raise SystemExit("name collision: %r (%s) vs %s" % (n, r["key"], seen[nn]))
            seen[nn] = r["key"]
        if r["parent"]:
            assert r["parent"] in keys, (r["key"], r["parent"])
            assert not r["intensity_g_per_kwh"], r["key"]
        else:
            assert r["intensity_g_per_kwh"], r["key"]
        if r["intensity_low"]:
            assert float(r["intensity_low"]) <= float(r["intensity_g_per_kwh"]) <= float(r["intensity_high"]), r["key"]


def main():
    rows, gaps, w_raw, wf = build()
    # drop aliases that normalise to the row's own key or repeat (e.g. cn-national vs cn:national)
    for r in rows:
        kept, ns = [], {norm(r["key"])}
        for a in [a for a in r["aliases"].split("|") if a]:
            if norm(a) not in ns:
                kept.append(a)
                ns.add(norm(a))
        r["aliases"] = "|".join(kept)
    validate(rows)
    out = os.path.join(DATA_DIR, "grids.csv")
    with open(out, "w", newline="", encoding="utf-8") as fh:
        wr = csv.DictWriter(fh, fieldnames=HEADER, lineterminator="\n")
        wr.writeheader()
        wr.writerows(rows)
    ew = os.path.join(DATA_DIR, "ewif.csv")
    with open(ew, "w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["key", "l_per_kwh_low", "l_per_kwh_high", "year", "source", "notes"])
        for rr in ewif_rows(w_raw):
            for v in rr:
                assert "," not in str(v) and '"' not in str(v), v
            wr.writerow([fmt(v, 4) if isinstance(v, float) else v for v in rr])
    counts = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    print("wrote", out, len(rows), "rows", counts, file=sys.stderr)
    for k, v in gaps.items():
        print("gap", k, v, file=sys.stderr)


if __name__ == "__main__":
    main()
