// What tests/browser/test_every_page.py checks on every page, run in the page itself.
// Returns lists of short descriptions of what is wrong (overflow, offscreen, labels, contrast,
// stacked) and the visible texts (the test looks for English and raw codes in them).
() => {
  "use strict";
  const vw = window.innerWidth;
  const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
  const SKIP = "script, style, template, noscript, .hf-mono";
  const HIDDEN = ".visually-hidden, .visually-hidden-focusable, .sr-only";
  const out = { overflow: [], offscreen: [], labels: [], contrast: [], stacked: [], texts: [] };
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.classList.length) s += "." + [...el.classList].slice(0, 3).join(".");
    return s;
  };

  // 1. The page never scrolls sideways; name what sticks out.
  const doc = document.documentElement;
  if (doc.scrollWidth > vw) {
    const wide = [...document.body.querySelectorAll("*")]
      .filter((el) => el.getBoundingClientRect().right > vw + 1)
      .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= vw + 1)
      .slice(0, 3)
      .map((el) => `${describe(el)} ${Math.round(el.getBoundingClientRect().right)}px`);
    out.overflow.push(`scrollWidth ${doc.scrollWidth} > ${vw}: ${wide.join(", ")}`);
  }

  // 2. No control leaves the screen (e.g. hidden to the right of a table scroller). Tab strips
  // (.hf-tabs) scroll sideways on purpose.
  for (const el of document.querySelectorAll("a[href], button, input, select, textarea")) {
    if (el.closest(".hf-tabs, " + HIDDEN) || el.type === "hidden") continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (getComputedStyle(el).visibility === "hidden") continue;
    if (r.left < -1 || r.right > vw + 1) {
      out.offscreen.push(`${describe(el)} 「${(el.innerText || el.value || "").trim().slice(0, 20)}」 at ${Math.round(r.left)}–${Math.round(r.right)}px`);
    }
  }

  // 3. Every label names a field that exists (a label for="" or for a missing id cannot be
  // clicked and names nothing for a screen reader).
  for (const label of document.querySelectorAll("label[for]")) {
    const target = label.htmlFor && document.getElementById(label.htmlFor);
    if (!target) {
      out.labels.push(`label for="${label.htmlFor}" 「${label.innerText.trim().slice(0, 20)}」`);
    }
  }

  // 3b. Badges (counts, states) readable: text against its own background at least 4.5:1 (WCAG
  // AA for small text). Colours are read through a canvas, which understands oklch() too.
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const paint = canvas.getContext("2d", { willReadFrequently: true });
  const rgb = (colour) => {
    paint.clearRect(0, 0, 1, 1);
    paint.fillStyle = colour;
    paint.fillRect(0, 0, 1, 1);
    return paint.getImageData(0, 0, 1, 1).data;
  };
  const luminance = ([r, g, b]) => {
    const lin = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  for (const el of document.querySelectorAll(".badge")) {
    if (el.getClientRects().length === 0 || !el.innerText.trim()) continue;
    const style = getComputedStyle(el);
    const back = rgb(style.backgroundColor);
    if (back[3] < 200) continue;  // see-through: the text sits on the page, not the badge
    const [l1, l2] = [luminance(rgb(style.color)), luminance(back)].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < 4.5) {
      out.contrast.push(`${describe(el)} 「${el.innerText.trim().slice(0, 12)}」 ${ratio.toFixed(1)}:1`);
    }
  }

  // 4. Text that wraps one character per line (or, for four or more characters, two).
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let node;
  while ((node = walker.nextNode())) {
    const text = node.nodeValue;
    const el = node.parentElement;
    if (!el || !text.trim() || el.closest(SKIP)) continue;
    range.selectNodeContents(node);
    if (range.getClientRects().length === 0) continue;  // not rendered
    const hidden = el.closest(HIDDEN);
    if (!hidden) out.texts.push(text.trim());
    if (hidden || !CJK.test(text)) continue;
    const lines = [];
    let last = null;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff) { i++; continue; }
      if (/\s/.test(text[i])) continue;
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const r = range.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (last === null || r.top >= last.top + last.height * 0.6 || r.left < last.left - 1) {
        lines.push(0);
      }
      lines[lines.length - 1] += 1;
      last = r;
    }
    const chars = lines.reduce((a, b) => a + b, 0);
    const widest = Math.max(0, ...lines);
    if ((chars >= 2 && widest <= 1) || (chars >= 4 && widest <= 2)) {
      out.stacked.push(`${describe(el)} 「${text.trim().slice(0, 20)}」 ${lines.length} lines of ≤ ${widest}`);
    }
  }
  // What the user reads but is not a text node: placeholders, button values, select options.
  for (const el of document.querySelectorAll("input, textarea, select")) {
    if (el.type === "hidden" || el.closest(SKIP)) continue;
    if (el.getClientRects().length === 0) continue;
    if (el.placeholder) out.texts.push(el.placeholder);
    if (["submit", "button"].includes(el.type) && el.value) out.texts.push(el.value);
    if (el.tagName === "SELECT") for (const o of el.options) out.texts.push(o.text);
  }
  return out;
}
