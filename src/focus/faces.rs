//! Face detection with a Viola–Jones Haar cascade, as trained by OpenCV and shipped in
//! Debian's `opencv-data` (read from disk by the caller; nothing is downloaded).
//!
//! The picture is searched at a pyramid of scales (×1.1 apart) with a fixed-size window;
//! each window is normalised by its contrast and must pass every boosted stage. Overlapping
//! hits are then grouped, as OpenCV's `groupRectangles` does, and lone hits dropped.

use super::Gray;

/// A rectangle in pixels of the analysed picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// A trained cascade: window size, boosted stages and the Haar features they test.
#[derive(Debug, Clone)]
pub struct Cascade {
    width: usize,
    height: usize,
    stages: Vec<Stage>,
    features: Vec<Feature>,
}

#[derive(Debug, Clone)]
struct Stage {
    threshold: f64,
    trees: Vec<Tree>,
}

#[derive(Debug, Clone)]
struct Tree {
    nodes: Vec<Node>,
    leaves: Vec<f64>,
}

/// A split: `left`/`right` > 0 are node indices, ≤ 0 are leaf indices (negated).
#[derive(Debug, Clone, Copy)]
struct Node {
    left: i32,
    right: i32,
    feature: usize,
    threshold: f64,
}

/// Weighted rectangles (x, y, w, h, weight) inside the window.
#[derive(Debug, Clone)]
struct Feature {
    rects: Vec<(usize, usize, usize, usize, f64)>,
}

/// Hits a group needs to count as a face (OpenCV's `minNeighbors`).
const MIN_NEIGHBOURS: usize = 3;
/// How far apart (relative to size) two hits of one face may be.
const GROUP_EPS: f64 = 0.2;

impl Cascade {
    /// Reads OpenCV's cascade XML (the `opencv_traincascade` format, HAAR features).
    pub fn parse(xml: &str) -> Result<Cascade, String> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| e.to_string())?;
        let cascade = doc
            .descendants()
            .find(|n| n.has_tag_name("cascade"))
            .ok_or("no <cascade> element")?;
        let text = |name: &str| -> Result<String, String> {
            cascade
                .children()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
                .map(|t| t.trim().to_string())
                .ok_or_else(|| format!("no <{name}>"))
        };
        if text("featureType")? != "HAAR" {
            return Err("only HAAR cascades are supported".into());
        }
        let number = |name: &str| -> Result<usize, String> {
            text(name)?
                .parse()
                .map_err(|_| format!("<{name}> is not a number"))
        };
        let (width, height) = (number("width")?, number("height")?);
        let stages = parse_stages(cascade)?;
        let features = parse_features(cascade, width, height)?;
        let valid = stages.iter().flat_map(|s| &s.trees).all(|t| {
            t.nodes.iter().all(|n| {
                n.feature < features.len()
                    && [n.left, n.right].iter().all(|&i| {
                        if i > 0 {
                            (i as usize) < t.nodes.len()
                        } else {
                            (i.unsigned_abs() as usize) < t.leaves.len()
                        }
                    })
            })
        });
        if stages.is_empty() || !valid {
            return Err("the cascade refers to features or leaves it does not have".into());
        }
        Ok(Cascade {
            width,
            height,
            stages,
            features,
        })
    }

    /// Faces at least `min_size` pixels wide, largest first.
    pub fn detect(&self, img: &Gray, min_size: usize) -> Vec<Face> {
        self.detect_with(img, min_size, MIN_NEIGHBOURS)
    }

    fn detect_with(&self, img: &Gray, min_size: usize, neighbours: usize) -> Vec<Face> {
        let mut hits = Vec::new();
        let mut scale = 1.0f64;
        loop {
            let sw = (img.width as f64 / scale).round() as usize;
            let sh = (img.height as f64 / scale).round() as usize;
            if sw < self.width || sh < self.height {
                break;
            }
            if (self.width as f64 * scale) >= min_size as f64 {
                let table = Integral::new(&resize(img, sw, sh));
                let corners = self.corner_offsets(table.stride);
                let step = if scale > 2.0 { 1 } else { 2 };
                for y in (0..=sh - self.height).step_by(step) {
                    for x in (0..=sw - self.width).step_by(step) {
                        if self.passes(&table, &corners, x, y) {
                            hits.push(Face {
                                x: x as f64 * scale,
                                y: y as f64 * scale,
                                w: self.width as f64 * scale,
                                h: self.height as f64 * scale,
                            });
                        }
                    }
                }
            }
            scale *= 1.1;
        }
        let mut faces = group(&hits, neighbours);
        faces.sort_by(|a, b| (b.w * b.h).total_cmp(&(a.w * a.h)));
        faces
    }

    /// The faces of `candidates` that this (second, differently trained) cascade also finds
    /// in a margin around them: cheap, and it removes most false positives of the first.
    pub fn confirm(&self, img: &Gray, candidates: &[Face]) -> Vec<Face> {
        candidates
            .iter()
            .filter(|f| {
                let margin = f.w * 0.3;
                let x0 = (f.x - margin).max(0.0) as usize;
                let y0 = (f.y - margin).max(0.0) as usize;
                let x1 = ((f.x + f.w + margin) as usize).min(img.width);
                let y1 = ((f.y + f.h + margin) as usize).min(img.height);
                if x1 <= x0 + self.width || y1 <= y0 + self.height {
                    return false;
                }
                let crop = img.crop(x0, y0, x1 - x0, y1 - y0);
                self.detect_with(&crop, (f.w * 0.6) as usize, 1)
                    .iter()
                    .any(|g| {
                        let g = Face {
                            x: g.x + x0 as f64,
                            y: g.y + y0 as f64,
                            ..*g
                        };
                        overlap(f, &g) > 0.4
                    })
            })
            .copied()
            .collect()
    }

    /// For each feature, its rectangles as the four table offsets of their corners (relative
    /// to a window's top-left entry) and their weight: computed once per pyramid level.
    fn corner_offsets(&self, stride: usize) -> Vec<Vec<([usize; 4], f64)>> {
        self.features
            .iter()
            .map(|f| {
                f.rects
                    .iter()
                    .map(|&(x, y, w, h, weight)| {
                        let at = |x: usize, y: usize| y * stride + x;
                        (
                            [at(x, y), at(x + w, y), at(x, y + h), at(x + w, y + h)],
                            weight,
                        )
                    })
                    .collect()
            })
            .collect()
    }

    fn passes(&self, t: &Integral, corners: &[Vec<([usize; 4], f64)>], x: usize, y: usize) -> bool {
        let origin = y * t.stride + x;
        let sums = &t.sums;
        let rect_sum = |c: &[usize; 4]| {
            sums[origin + c[3]] - sums[origin + c[2]] - sums[origin + c[1]] + sums[origin + c[0]]
        };
        let (w, h) = (self.width - 2, self.height - 2);
        let area = (w * h) as f64;
        let sum = t.sum(x + 1, y + 1, w, h);
        let squares = t.squares(x + 1, y + 1, w, h);
        let spread = area * squares - sum * sum;
        let norm = if spread > 0.0 {
            1.0 / spread.sqrt()
        } else {
            1.0
        };
        self.stages.iter().all(|stage| {
            let total: f64 = stage
                .trees
                .iter()
                .map(|tree| {
                    let mut i = 0usize;
                    loop {
                        let n = tree.nodes[i];
                        let value: f64 = corners[n.feature]
                            .iter()
                            .map(|(c, weight)| weight * rect_sum(c))
                            .sum::<f64>()
                            * norm;
                        let next = if value < n.threshold { n.left } else { n.right };
                        if next <= 0 {
                            break tree.leaves[next.unsigned_abs() as usize];
                        }
                        i = next as usize;
                    }
                })
                .sum();
            total >= stage.threshold
        })
    }
}

fn parse_stages(cascade: XmlNode<'_, '_>) -> Result<Vec<Stage>, String> {
    let mut stages = Vec::new();
    for stage in items(child(cascade, "stages")) {
        let threshold = numbers(child(stage, "stageThreshold"))?
            .first()
            .copied()
            .ok_or("stage without threshold")?;
        let mut trees = Vec::new();
        for weak in items(child(stage, "weakClassifiers")) {
            let raw = numbers(child(weak, "internalNodes"))?;
            let nodes = raw
                .chunks(4)
                .filter(|c| c.len() == 4)
                .map(|c| Node {
                    left: c[0] as i32,
                    right: c[1] as i32,
                    feature: c[2] as usize,
                    threshold: c[3],
                })
                .collect::<Vec<_>>();
            let leaves = numbers(child(weak, "leafValues"))?;
            if nodes.is_empty() || leaves.is_empty() {
                return Err("a weak classifier without nodes or leaves".into());
            }
            trees.push(Tree { nodes, leaves });
        }
        stages.push(Stage { threshold, trees });
    }
    Ok(stages)
}

fn parse_features(
    cascade: XmlNode<'_, '_>,
    width: usize,
    height: usize,
) -> Result<Vec<Feature>, String> {
    let mut features = Vec::new();
    for feature in items(child(cascade, "features")) {
        if child(feature, "tilted")
            .and_then(|t| t.text())
            .is_some_and(|t| t.trim() == "1")
        {
            return Err("tilted Haar features are not supported".into());
        }
        let mut rects = Vec::new();
        for rect in items(child(feature, "rects")) {
            let v = numbers(Some(rect))?;
            if v.len() != 5 || v[..4].iter().any(|x| *x < 0.0) {
                return Err("a feature rectangle needs x y w h weight".into());
            }
            let (x, y, w, h) = (v[0] as usize, v[1] as usize, v[2] as usize, v[3] as usize);
            if x + w > width || y + h > height {
                return Err("a feature rectangle lies outside the window".into());
            }
            rects.push((x, y, w, h, v[4]));
        }
        features.push(Feature { rects });
    }
    Ok(features)
}

type XmlNode<'a, 'i> = roxmltree::Node<'a, 'i>;

fn child<'a, 'i>(node: XmlNode<'a, 'i>, name: &str) -> Option<XmlNode<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(name))
}

/// The `<_>` entries of a list element.
fn items<'a, 'i>(node: Option<XmlNode<'a, 'i>>) -> Vec<XmlNode<'a, 'i>> {
    node.into_iter()
        .flat_map(|n| n.children().filter(|c| c.has_tag_name("_")))
        .collect()
}

fn numbers(node: Option<XmlNode<'_, '_>>) -> Result<Vec<f64>, String> {
    node.and_then(|n| n.text())
        .unwrap_or_default()
        .split_whitespace()
        .map(|v| v.parse::<f64>().map_err(|_| format!("bad number {v:?}")))
        .collect()
}

/// Summed-area tables of pixel values and their squares.
struct Integral {
    stride: usize,
    sums: Vec<f64>,
    squares: Vec<f64>,
}

impl Integral {
    fn new(g: &Gray) -> Integral {
        let stride = g.width + 1;
        let mut sums = vec![0.0; stride * (g.height + 1)];
        let mut squares = vec![0.0; stride * (g.height + 1)];
        for y in 0..g.height {
            let (mut row, mut row_sq) = (0.0, 0.0);
            for x in 0..g.width {
                let v = f64::from(g.at(x, y));
                row += v;
                row_sq += v * v;
                let i = (y + 1) * stride + x + 1;
                sums[i] = sums[i - stride] + row;
                squares[i] = squares[i - stride] + row_sq;
            }
        }
        Integral {
            stride,
            sums,
            squares,
        }
    }

    fn rect(table: &[f64], stride: usize, x: usize, y: usize, w: usize, h: usize) -> f64 {
        let at = |x: usize, y: usize| table[y * stride + x];
        at(x + w, y + h) - at(x, y + h) - at(x + w, y) + at(x, y)
    }

    fn sum(&self, x: usize, y: usize, w: usize, h: usize) -> f64 {
        Self::rect(&self.sums, self.stride, x, y, w, h)
    }

    fn squares(&self, x: usize, y: usize, w: usize, h: usize) -> f64 {
        Self::rect(&self.squares, self.stride, x, y, w, h)
    }
}

/// Bilinear resize.
fn resize(g: &Gray, w: usize, h: usize) -> Gray {
    let (fx, fy) = (g.width as f64 / w as f64, g.height as f64 / h as f64);
    let mut pixels = Vec::with_capacity(w * h);
    for y in 0..h {
        let sy = ((y as f64 + 0.5) * fy - 0.5).clamp(0.0, (g.height - 1) as f64);
        let (y0, ty) = (sy.floor() as usize, sy.fract());
        let y1 = (y0 + 1).min(g.height - 1);
        for x in 0..w {
            let sx = ((x as f64 + 0.5) * fx - 0.5).clamp(0.0, (g.width - 1) as f64);
            let (x0, tx) = (sx.floor() as usize, sx.fract());
            let x1 = (x0 + 1).min(g.width - 1);
            let p = |x: usize, y: usize| f64::from(g.at(x, y));
            let top = p(x0, y0) * (1.0 - tx) + p(x1, y0) * tx;
            let bottom = p(x0, y1) * (1.0 - tx) + p(x1, y1) * tx;
            pixels.push((top * (1.0 - ty) + bottom * ty).round() as u8);
        }
    }
    Gray {
        width: w,
        height: h,
        pixels,
    }
}

/// Intersection over the smaller area.
fn overlap(a: &Face, b: &Face) -> f64 {
    let w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
    let h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
    if w <= 0.0 || h <= 0.0 {
        return 0.0;
    }
    w * h / (a.w * a.h).min(b.w * b.h)
}

fn similar(a: &Face, b: &Face) -> bool {
    let delta = GROUP_EPS * (a.w.min(b.w) + a.h.min(b.h)) * 0.5;
    (a.x - b.x).abs() <= delta
        && (a.y - b.y).abs() <= delta
        && (a.x + a.w - b.x - b.w).abs() <= delta
        && (a.y + a.h - b.y - b.h).abs() <= delta
}

/// Groups overlapping hits into faces: averages each group, drops groups with too few hits
/// and groups that sit inside a stronger one.
fn group(hits: &[Face], neighbours: usize) -> Vec<Face> {
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..hits.len() {
        for j in 0..i {
            if similar(&hits[i], &hits[j]) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, (Face, usize)> = Default::default();
    for (i, h) in hits.iter().enumerate() {
        let r = root(&mut parent, i);
        let e = groups.entry(r).or_insert((
            Face {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 0.0,
            },
            0,
        ));
        e.0.x += h.x;
        e.0.y += h.y;
        e.0.w += h.w;
        e.0.h += h.h;
        e.1 += 1;
    }
    let averaged: Vec<(Face, usize)> = groups
        .into_values()
        .filter(|(_, n)| *n > neighbours)
        .map(|(f, n)| {
            let k = n as f64;
            (
                Face {
                    x: f.x / k,
                    y: f.y / k,
                    w: f.w / k,
                    h: f.h / k,
                },
                n,
            )
        })
        .collect();
    averaged
        .iter()
        .filter(|(a, na)| {
            !averaged.iter().any(|(b, nb)| {
                let (dx, dy) = (b.w * GROUP_EPS, b.h * GROUP_EPS);
                !std::ptr::eq(a, b)
                    && a.x >= b.x - dx
                    && a.y >= b.y - dy
                    && a.x + a.w <= b.x + b.w + dx
                    && a.y + a.h <= b.y + b.h + dy
                    && (*nb > (*na).max(3) || *na < 3)
            })
        })
        .map(|(f, _)| *f)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-stage cascade with one feature: "the left half is darker than the right".
    const TOY: &str = r#"<?xml version="1.0"?>
<opencv_storage><cascade type_id="opencv-cascade-classifier">
<stageType>BOOST</stageType><featureType>HAAR</featureType>
<height>4</height><width>4</width>
<stages><_><maxWeakCount>1</maxWeakCount><stageThreshold>0.5</stageThreshold>
<weakClassifiers><_><internalNodes>0 -1 0 -0.2</internalNodes>
<leafValues>1.0 0.0</leafValues></_></weakClassifiers></_></stages>
<features><_><rects><_>0 0 2 4 1.</_><_>2 0 2 4 -1.</_></rects></_></features>
</cascade></opencv_storage>"#;

    #[test]
    fn a_toy_cascade_finds_its_pattern() {
        let c = Cascade::parse(TOY).unwrap();
        let (w, h) = (40, 20);
        let mut px = vec![200u8; w * h];
        // A dark-left/bright-right edge pattern at x 20..28, y 6..14 (textured for contrast).
        for y in 0..h {
            for x in 0..w {
                px[y * w + x] = 120 + ((x * 7 + y * 3) % 5) as u8;
            }
        }
        for y in 6..14 {
            for x in 20..24 {
                px[y * w + x] = 10;
            }
            for x in 24..28 {
                px[y * w + x] = 250;
            }
        }
        let g = Gray::new(w, h, px).unwrap();
        let found = c.detect(&g, 4);
        assert!(!found.is_empty());
        let f = found[0];
        assert!(f.x >= 15.0 && f.x + f.w <= 33.0, "{f:?}");
    }

    #[test]
    fn broken_cascades_are_errors() {
        assert!(Cascade::parse("<x/>").is_err());
        assert!(Cascade::parse(&TOY.replace("0 -1 0 -0.2", "0 -1 7 -0.2")).is_err());
        assert!(Cascade::parse(&TOY.replace("2 0 2 4 -1.", "3 0 2 4 -1.")).is_err());
        assert!(Cascade::parse("not xml at all").is_err());
    }

    #[test]
    fn overlapping_hits_group_and_lone_hits_drop() {
        let f = |x: f64| Face {
            x,
            y: 10.0,
            w: 20.0,
            h: 20.0,
        };
        let hits = [f(10.0), f(11.0), f(12.0), f(10.5), f(11.5), f(80.0)];
        let faces = group(&hits, MIN_NEIGHBOURS);
        assert_eq!(faces.len(), 1);
        assert!((faces[0].x - 11.0).abs() < 0.01);
    }
}
