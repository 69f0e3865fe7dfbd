// A bar chart drawn as inline SVG: no library, no CDN. `barChart` returns the SVG element.
const SVG = "http://www.w3.org/2000/svg";

function node(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// Bars for `values` (one per label), scaled to the largest; each bar has a tooltip (<title>).
export function barChart({ labels, values, format, title }) {
  const width = 360, height = 140, left = 4, bottom = 18, top = 14;
  const max = Math.max(...values, 0);
  const step = (width - left) / Math.max(values.length, 1);
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  svg.dataset.values = values.join(",");
  svg.append(node("line", { class: "axis", x1: left, x2: width, y1: height - bottom, y2: height - bottom }));
  values.forEach((value, index) => {
    const barHeight = max > 0 ? ((height - bottom - top) * value) / max : 0;
    const bar = node("rect", {
      class: "bar",
      x: (left + index * step + step * 0.15).toFixed(1),
      y: (height - bottom - barHeight).toFixed(1),
      width: (step * 0.7).toFixed(1),
      height: barHeight.toFixed(1),
    });
    bar.append(node("title", {}, `${labels[index]}: ${format(value)}`));
    svg.append(bar);
  });
  const last = labels.length - 1;
  if (last >= 0) {
    svg.append(node("text", { x: left, y: height - 4 }, labels[0]));
    svg.append(node("text", { x: width, y: height - 4, "text-anchor": "end" }, labels[last]));
  }
  svg.append(node("text", { x: width, y: 10, "text-anchor": "end" }, "max " + format(max)));
  return svg;
}
