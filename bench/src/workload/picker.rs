//! The seeded data the checks rely on, and how W3 and W4 choose ids (uniformly or Zipf).
//!
//! Apart from the checks and the load loop because both read it and it depends on neither.
use rand::Rng;

/// The seeded data: ids `1..=users` are `user{i}@example.com` / `User {i}`, active, role USER.
/// Names change only through W4's writes, which keep their own record ([`Writes`]).
pub struct Layout {
    pub users: u64,
}

/// How W3 and W4 choose ids.
pub struct Picker {
    users: u64,
    /// Cumulative Zipf weights of ranks 1..=users (rank k is id k), when Zipf is asked for.
    zipf_cdf: Option<Vec<f64>>,
}

impl Picker {
    pub fn new(users: u64, zipf: Option<f64>) -> Self {
        let zipf_cdf = zipf.map(|s| {
            let mut acc = 0.0;
            (1..=users)
                .map(|k| {
                    acc += 1.0 / (k as f64).powf(s);
                    acc
                })
                .collect()
        });
        Self { users, zipf_cdf }
    }

    pub fn pick(&self, rng: &mut impl Rng) -> u64 {
        match &self.zipf_cdf {
            None => rng.random_range(1..=self.users),
            Some(cdf) => {
                let total = *cdf.last().expect("at least one user");
                let u = rng.random::<f64>() * total;
                let i = cdf.partition_point(|&c| c <= u);
                (i as u64 + 1).min(self.users)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::SmallRng};

    #[test]
    fn zipf_prefers_low_ranks() {
        let picker = Picker::new(1000, Some(1.2));
        let mut rng = SmallRng::seed_from_u64(7);
        let mut first = 0;
        for _ in 0..10_000 {
            let id = picker.pick(&mut rng);
            assert!((1..=1000).contains(&id));
            if id == 1 {
                first += 1;
            }
        }
        // P(rank 1) = 1 / H(1000, 1.2) ≈ 0.24.
        assert!((1800..3000).contains(&first), "{first}");
    }
}
