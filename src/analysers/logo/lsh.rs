//! An index of 256-bit binary descriptors for nearest-neighbour search by Hamming distance:
//! bit-sampling locality-sensitive hashing with multi-probe (the scheme of FLANN's LSH
//! index). Written here because FLANN's own, through OpenCV's `FlannBasedMatcher`, took
//! 200-320 ms to look up one 720p frame's 2000 descriptors in a 50-logo gallery (bench/logo.sh),
//! more than the whole frame's budget; this layout (each table one sorted array) takes tens.
//!
//! Each table keys a descriptor by `key_bits` of its bits chosen at random; a query looks in
//! its own bucket and in the buckets one bit away, in every table, and ranks the descriptors
//! found by their exact distance. The key grows with the index (about four buckets per
//! descriptor: ORB's bits are far from independent, so real buckets are much fuller than
//! that), so a query costs far less than ten times as much with 500 logos as with 50.

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::SeedableRng;

use super::cv::DESCRIPTOR;

/// Hash tables: were the bits independent, a match at distance 40 (of 256) would share a
/// probed bucket with its query in at least one of them 9 times in 10 with 16-bit keys, 3 in 4
/// with 20-bit keys.
const TABLES: usize = 8;

/// Longest key: a table's bucket index is then 4 MB, and 500 logos' up to 500,000 descriptors
/// have two buckets each or more.
const MAX_KEY_BITS: usize = 20;

/// A bucket holding more descriptors than this (with keys this long, hundreds of times the
/// average) holds a pattern common to many pictures (an edge, a flat gradient): it is skipped
/// like a stop word, since a match found only there would fail the ratio test anyway.
const CROWDED: usize = 16;
/// Bits the keys are drawn from.
const BALANCED_BITS: usize = 128;

type Bits = [u64; 4];

fn bits(descriptor: &[u8]) -> Bits {
    let mut b = [0u64; 4];
    for (w, chunk) in b.iter_mut().zip(descriptor.chunks_exact(8)) {
        *w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    }
    b
}

fn distance(a: &Bits, b: &Bits) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

struct Table {
    /// The descriptor bits this table's key is made of.
    sampled: Vec<u16>,
    /// Descriptors by key: those of key `k` are `ids[starts[k]..starts[k + 1]]`.
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl Table {
    fn key(&self, d: &Bits) -> usize {
        self.sampled.iter().enumerate().fold(0, |key, (i, &bit)| {
            key | ((((d[usize::from(bit) / 64] >> (bit % 64)) & 1) as usize) << i)
        })
    }

    fn bucket(&self, key: usize) -> &[u32] {
        &self.ids[self.starts[key] as usize..self.starts[key + 1] as usize]
    }
}

pub struct Lsh {
    descriptors: Vec<Bits>,
    tables: Vec<Table>,
}

impl Lsh {
    /// Index `descriptors` (`DESCRIPTOR` bytes each). The tables' bits are drawn from a fixed
    /// seed, so a gallery always gives the same results.
    pub fn build(descriptors: &[u8]) -> Lsh {
        let descriptors: Vec<Bits> = descriptors.chunks_exact(DESCRIPTOR).map(bits).collect();
        let key_bits =
            ((descriptors.len().max(1) as f64).log2().round() as usize + 2).clamp(8, MAX_KEY_BITS);
        // Keys are drawn from the most balanced bits (set in close to half the descriptors):
        // ORB's bits are not, on real pictures, and unbalanced bits crowd the buckets.
        let mut ones = [0usize; DESCRIPTOR * 8];
        for d in &descriptors {
            for (bit, n) in ones.iter_mut().enumerate() {
                *n += ((d[bit / 64] >> (bit % 64)) & 1) as usize;
            }
        }
        let half = descriptors.len() / 2;
        let mut balanced: Vec<u16> = (0..DESCRIPTOR as u16 * 8).collect();
        balanced.sort_by_key(|&b| (ones[usize::from(b)].abs_diff(half), b));
        balanced.truncate(BALANCED_BITS);
        let mut rng = StdRng::seed_from_u64(0x10605);
        let tables = (0..TABLES)
            .map(|_| {
                let sampled: Vec<u16> = sample(&mut rng, BALANCED_BITS, key_bits)
                    .into_iter()
                    .map(|i| balanced[i])
                    .collect();
                let mut table = Table {
                    sampled,
                    starts: vec![0; (1 << key_bits) + 1],
                    ids: vec![0; descriptors.len()],
                };
                // Counting sort by key.
                let keys: Vec<usize> = descriptors.iter().map(|d| table.key(d)).collect();
                for &k in &keys {
                    table.starts[k + 1] += 1;
                }
                for k in 1..table.starts.len() {
                    table.starts[k] += table.starts[k - 1];
                }
                let mut next = table.starts.clone();
                for (id, &k) in keys.iter().enumerate() {
                    table.ids[next[k] as usize] = id as u32;
                    next[k] += 1;
                }
                table
            })
            .collect();
        Lsh {
            descriptors,
            tables,
        }
    }

    /// A searcher: it keeps the scratch space of its queries.
    pub fn searcher(&self) -> Searcher<'_> {
        Searcher {
            index: self,
            stamp: vec![0; self.descriptors.len()],
            round: 0,
        }
    }
}

pub struct Searcher<'a> {
    index: &'a Lsh,
    /// The query that last looked at each descriptor, so none is measured twice.
    stamp: Vec<u32>,
    round: u32,
}

impl Searcher<'_> {
    /// The `k` nearest indexed descriptors of `query` among those it shares a probed bucket
    /// with: (index, Hamming distance), nearest first.
    pub fn nearest(&mut self, query: &[u8], k: usize) -> Vec<(usize, u32)> {
        let q = bits(query);
        self.round = self.round.wrapping_add(1);
        if self.round == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.round = 1;
        }
        let mut best: Vec<(usize, u32)> = Vec::with_capacity(k + 1);
        for table in &self.index.tables {
            let key = table.key(&q);
            let probes =
                std::iter::once(key).chain((0..table.sampled.len()).map(|b| key ^ (1 << b)));
            for probe in probes {
                let bucket = table.bucket(probe);
                if bucket.len() > CROWDED {
                    continue;
                }
                for &id in bucket {
                    let id = id as usize;
                    if self.stamp[id] == self.round {
                        continue;
                    }
                    self.stamp[id] = self.round;
                    let d = distance(&q, &self.index.descriptors[id]);
                    if best.len() < k || d < best[best.len() - 1].1 {
                        let at = best.partition_point(|&(_, bd)| bd <= d);
                        best.insert(at, (id, d));
                        best.truncate(k);
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn finds_the_true_nearest_neighbours_of_near_copies() {
        let mut rng = StdRng::seed_from_u64(1);
        let n = 20_000;
        let data: Vec<u8> = (0..n * DESCRIPTOR).map(|_| rng.gen()).collect();
        let index = Lsh::build(&data);
        let mut searcher = index.searcher();
        let mut found = 0;
        for i in (0..n).step_by(200) {
            // The descriptor with 30 of its 256 bits flipped, as the same corner seen again.
            let mut q = data[i * DESCRIPTOR..(i + 1) * DESCRIPTOR].to_vec();
            for bit in sample(&mut rng, 256, 30) {
                q[bit / 8] ^= 1 << (bit % 8);
            }
            let near = searcher.nearest(&q, 2);
            if near.first() == Some(&(i, 30)) {
                found += 1;
            }
            assert!(near.windows(2).all(|w| w[0].1 <= w[1].1));
        }
        assert!(found >= 90, "{found} of 100");
    }
}
