//! Tables laid out as Go's `text/tabwriter` lays out the reference's: every cell but the last of
//! a row is padded to its column's width (the widest cell plus `pad`, at least `min`); the last
//! cell is printed as it is.

/// The rows as text, one line each.
pub(super) fn tabwrite<S: AsRef<str>>(rows: &[Vec<S>], min: usize, pad: usize) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            let w = (c.as_ref().chars().count() + pad).max(min);
            match widths.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            let c = c.as_ref();
            out.push_str(c);
            if i + 1 < r.len() {
                out.push_str(&" ".repeat(widths[i].saturating_sub(c.chars().count())));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tabwrite;

    #[test]
    fn cells_are_padded_but_the_last_one() {
        let rows = vec![
            vec!["NAME", "STATUS", "PORTS"],
            vec!["p-web-1", "Up 2 seconds", ""],
        ];
        // `docker compose ps`: minimum 10, padding 3; an empty last cell leaves the padding.
        assert_eq!(
            tabwrite(&rows, 10, 3),
            "NAME      STATUS         PORTS\np-web-1   Up 2 seconds   \n"
        );
        // `top`: minimum 4, padding 2.
        assert_eq!(
            tabwrite(&[vec!["#", "UID"], vec!["1", "root"]], 4, 2),
            "#   UID\n1   root\n"
        );
    }
}
