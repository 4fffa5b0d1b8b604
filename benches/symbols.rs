//! Symbol table costs: building the cache for 3,603 unified symbols (the real 1,458-pair
//! Gate list plus 2,145 MEXC-only symbols and 1,000 MEXC listings of Gate pairs), and the
//! three lookups the hot path makes: unified -> id, id -> venue string, venue string ->
//! unified. The original workflow claimed 0.947 us resolution, 0.306 us formatting and
//! under 10 ms for the 3,603-symbol cache.
//!
//! Run: `cargo bench -p arb-benches --bench symbols`.

use std::hint::black_box;

use arb_core::Venue;
use arb_market::symbols::capture_body;
use arb_market::{SymbolId, SymbolTable};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const GATE_CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/captures/gateio/GATEIO.0"
);

/// The Gate list and a MEXC exchangeInfo whose symbols, together with Gate's, make 3,603
/// unified symbols.
fn fixtures() -> (String, String) {
    let text = std::fs::read_to_string(GATE_CAPTURE)
        .expect("Gate capture (data/captures/gateio/GATEIO.0)");
    let gate = capture_body(text.lines().next().unwrap())
        .unwrap()
        .to_owned();
    let pairs: Vec<serde_json::Value> = serde_json::from_str(&gate).unwrap();
    let mut symbols = Vec::new();
    let mut push = |base: &str, quote: &str| {
        symbols.push(serde_json::json!({
            "symbol": format!("{base}{quote}"), "status": "1", "baseAsset": base, "quoteAsset": quote,
            "baseAssetPrecision": 4, "quotePrecision": 6, "quoteAssetPrecision": 6,
            "baseSizePrecision": "0.0001", "quoteAmountPrecision": "1.000000000000000000000000000000000000",
            "isSpotTradingAllowed": true, "makerCommission": "0", "takerCommission": "0.0005",
            "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"], "permissions": ["SPOT"], "filters": [],
            "maxQuoteAmount": "2000000.000000000000000000000000000000", "fullName": base,
        }));
    };
    for p in pairs.iter().take(1000) {
        push(p["base"].as_str().unwrap(), p["quote"].as_str().unwrap());
    }
    for i in 0..2145 {
        push(&format!("MX{i}TOKEN"), "USDT");
    }
    let mexc =
        serde_json::json!({"timezone": "CST", "serverTime": 1, "symbols": symbols}).to_string();
    (mexc, gate)
}

fn bench(c: &mut Criterion) {
    let (mexc, gate) = fixtures();
    let table = SymbolTable::from_json(Some(&mexc), Some(&gate)).unwrap();
    assert_eq!(table.len(), 3603);

    let mut g = c.benchmark_group("symbols");
    g.throughput(Throughput::Elements(3603));
    g.bench_function("build_3603_from_json", |b| {
        b.iter(|| SymbolTable::from_json(Some(black_box(&mexc)), Some(black_box(&gate))).unwrap())
    });
    g.finish();

    // Lookups over 256 symbols spread over the table, cycled, so the probe sequence
    // is not a single hot key.
    let ids: Vec<SymbolId> = (0..256).map(|i| SymbolId((i * 14) as u32 % 3603)).collect();
    let unified: Vec<String> = ids
        .iter()
        .map(|&i| table.unified(i).unwrap().to_owned())
        .collect();
    let common: Vec<SymbolId> = table
        .common()
        .iter()
        .copied()
        .step_by(3)
        .take(256)
        .collect();
    let mexc_names: Vec<String> = common
        .iter()
        .map(|&i| table.venue_symbol(i, Venue::MEXC).unwrap().to_owned())
        .collect();

    let mut g = c.benchmark_group("symbols");
    g.throughput(Throughput::Elements(1));
    let mut k = 0usize;
    g.bench_function("unified_to_id", |b| {
        b.iter(|| {
            k = (k + 1) & 255;
            black_box(table.id(black_box(&unified[k])))
        })
    });
    g.bench_function("id_to_venue_symbol", |b| {
        b.iter(|| {
            k = (k + 1) & 255;
            black_box(table.venue_symbol(black_box(common[k]), Venue::GATE))
        })
    });
    g.bench_function("venue_symbol_to_unified", |b| {
        b.iter(|| {
            k = (k + 1) & 255;
            black_box(
                table
                    .id_by_venue(Venue::MEXC, black_box(&mexc_names[k]))
                    .and_then(|id| table.unified(id)),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
