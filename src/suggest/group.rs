//! Near-duplicate messages in groups: two messages whose feature sets are
//! at least `threshold` alike (Jaccard) are in one group, and so, through
//! them, are their other near-duplicates (single linkage). The groups come
//! out in a fixed order for the same messages.

use super::features::jaccard;

/// Groups `features` (one sorted set per message): each group is a list
/// of indices in ascending order, groups ordered by their first index.
/// Messages without features stay alone.
pub(crate) fn group(features: &[&[u64]], threshold: f64) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..features.len()).collect();
    for (i, a) in features.iter().enumerate() {
        for (j, b) in features.iter().enumerate().skip(i + 1) {
            if jaccard(a, b) >= threshold {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                // The smaller index leads, so the grouping is the same
                // whatever order the pairs are joined in.
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot = vec![usize::MAX; features.len()];
    for i in 0..features.len() {
        let r = root(&mut parent, i);
        if slot[r] == usize::MAX {
            slot[r] = groups.len();
            groups.push(Vec::new());
        }
        groups[slot[r]].push(i);
    }
    groups
}

fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}
