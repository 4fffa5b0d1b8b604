//! MEXC's documented rate limits (reference section A): 500 requests / 10 s per
//! endpoint, `GET /api/v3/account` 2 / s.

use crate::ratelimit::{Endpoint, Limit};

pub fn documented_limit(ep: Endpoint) -> Limit {
    match ep {
        Endpoint::Account => Limit::new(2, 1_000),
        _ => Limit::new(500, 10_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_values() {
        assert_eq!(documented_limit(Endpoint::Account), Limit::new(2, 1000));
        assert_eq!(documented_limit(Endpoint::Place), Limit::new(500, 10_000));
    }
}
