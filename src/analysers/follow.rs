//! Things followed across analysed frames (lines of text, logos): each frame that misses one
//! counts against it, and one missed a set number of frames in a row has left the screen.

/// Count a miss for each of `live` that `seen` (one flag per entry) says this frame missed,
/// and hand those missed `gone_after` frames in a row to `gone`, keeping the others in order.
pub fn age<T>(
    live: &mut Vec<T>,
    seen: Vec<bool>,
    gone_after: u32,
    missed: impl Fn(&mut T) -> &mut u32,
    mut gone: impl FnMut(T),
) {
    let mut keep = Vec::new();
    for (mut t, seen) in std::mem::take(live).into_iter().zip(seen) {
        let count = missed(&mut t);
        if !seen {
            *count += 1;
        }
        if *count >= gone_after {
            gone(t);
        } else {
            keep.push(t);
        }
    }
    *live = keep;
}
