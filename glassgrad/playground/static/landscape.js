// Landscape view: the diagonal flip's loss over two weights (a heat map in bands), the walk of each
// learning rate from one start, the step under your feet and the way downhill (−∇L). Every number is
// the engine's, from /api/landscape, and so is its text (glassgrad.trace.numbers.format_number writes each
// one beside its value): this file only draws them, and rounds no number of the engine's itself. The axis
// marks are positions on the slice (where the map's edges and middle are), written to 2 decimals here.

import { api, showError } from "./api.js";
import { $, clear, h, keepTicksReadable, s, setOptions } from "./dom.js";

const MAP = { width: 440, height: 380, left: 60, right: 24, top: 12, bottom: 44 }; // right: room for half the last mark
const LINE = { width: 440, height: 220, left: 60, right: 24, top: 12, bottom: 42 };
const BANDS = 14; // the heat map is cut into this many bands of log L: each band edge is a contour
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const RATE_COLOURS = { 0.001: "#6b7280", 0.1: "#1d4ed8", 1: "#15803d", 10: "#c2410c" };
const ARROW_PX = 44;

function colour(fraction) {
  const position = Math.min(Math.max(fraction, 0), 1) * (VIRIDIS.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, VIRIDIS.length - 1);
  const mix = position - low;
  const rgb = VIRIDIS[low].map((channel, k) => Math.round(channel + (VIRIDIS[high][k] - channel) * mix));
  return `rgb(${rgb.join(",")})`;
}

/** Map coordinates: weight values → pixels inside a frame. */
function scale(frame, [x0, x1], [y0, y1]) {
  const width = frame.width - frame.left - frame.right;
  const height = frame.height - frame.top - frame.bottom;
  return {
    x: (u) => frame.left + ((u - x0) / (x1 - x0)) * width,
    y: (v) => frame.top + (1 - (v - y0) / (y1 - y0)) * height,
    perX: width / (x1 - x0),
    perY: height / (y1 - y0),
    width,
    height,
  };
}

/** A position on the slice as an axis mark: a coordinate of the drawing, not a number the engine computed. */
const positionMark = (value) => value.toFixed(2);

/** Axes with marks: ``xs``/``ys`` are [value, text] pairs. The marks are placed in ems of their own size, which
 *  keepTicksReadable raises on a narrow screen: the lowest mark up (centred on the x axis) and the first mark across
 *  (under the corner) keep 0.25 em between them at any size, where fixed offsets ran the two into one another. */
function axes(svg, frame, place, xs, ys, xLabel, yLabel) {
  const bottom = frame.height - frame.bottom;
  svg.append(s("line", { x1: frame.left, y1: bottom, x2: frame.width - frame.right, y2: bottom, class: "axis" }));
  svg.append(s("line", { x1: frame.left, y1: frame.top, x2: frame.left, y2: bottom, class: "axis" }));
  for (const [u, text] of xs) {
    svg.append(s("text", { x: place.x(u), y: bottom, dy: "1.3em", "text-anchor": "middle", class: "tick" }, text));
  }
  for (const [v, text] of ys) {
    svg.append(s("text", { x: frame.left - 5, y: place.y(v), dy: "0.32em", "text-anchor": "end", class: "tick" },
      text));
  }
  svg.append(s("text", { x: frame.left + place.width / 2, y: frame.height - 6, "text-anchor": "middle",
    class: "axis-label keep-readable" }, xLabel));
  const middle = frame.top + place.height / 2; // a one-letter label stays upright: turned, "L" reads as "⌐"
  const turn = yLabel.length > 1 ? { transform: `rotate(-90 14 ${middle})` } : {};
  svg.append(s("text", { x: 14, y: middle, "text-anchor": "middle", class: "axis-label keep-readable", ...turn }, yLabel));
  keepTicksReadable(svg);
}

function arrowHead(id, fill) {
  return s("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
    orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill }));
}

export class LandscapeView {
  constructor(options, state, save) {
    this.state = state;
    this.save = save;
    this.data = null;
    this.build();
  }

  build() {
    const panel = $("view-landscape");
    clear(panel);
    this.rate = h("select", { id: "landscape-rate" });
    this.slider = h("input", { id: "landscape-step", type: "range", min: 0, max: 20, step: 1, value: 0,
      "aria-describedby": "landscape-step-text" });
    this.stepText = h("output", { id: "landscape-step-text" });
    this.x = h("input", { id: "landscape-x", type: "text", size: 8, autocomplete: "off" });
    this.y = h("input", { id: "landscape-y", type: "text", size: 8, autocomplete: "off" });
    this.steps = h("input", { id: "landscape-steps", type: "number", min: 1, max: 100, step: 1 });
    this.zoom = h("input", { id: "landscape-zoom", type: "checkbox" });
    this.zoom.addEventListener("change", () => this.load({ zoom: this.zoom.checked ? "1" : "" }));
    const form = h("form", { class: "controls", id: "landscape-form" },
      h("label", {}, "Weight across ", this.x),
      h("label", {}, "Weight up ", this.y),
      h("label", {}, "Steps ", this.steps),
      h("button", { type: "submit", id: "landscape-draw" }, "Draw"),
      h("label", {}, this.zoom, " Zoom to the valley"),
      h("small", { class: "muted", id: "landscape-hint" }, "weights as the trace names them, counting from 1: " +
        "b2[4] is output 4's bias, W1[3,4] row 3, column 4 of W₁"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load({ x: this.x.value.trim(), y: this.y.value.trim(), steps: Number(this.steps.value) });
    });
    this.back = h("button", { type: "button", id: "landscape-back", "aria-keyshortcuts": "ArrowLeft" },
      "◀ Step back");
    this.next = h("button", { type: "button", id: "landscape-next", "aria-keyshortcuts": "ArrowRight" }, "Step ▶");
    this.back.addEventListener("click", () => this.moveTo(this.at() - 1));
    this.next.addEventListener("click", () => this.moveTo(this.at() + 1));
    this.slider.addEventListener("input", () => this.moveTo(Number(this.slider.value)));
    this.rate.addEventListener("change", () => {
      this.state.rate = Number(this.rate.value);
      this.save();
      this.render();
    });
    const toolbar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Walk controls" },
      h("label", {}, "Learning rate η ", this.rate), this.back, this.next,
      h("label", { class: "slider" }, "Step ", this.slider, this.stepText));
    this.map = s("svg", { id: "landscape-map", role: "img", viewBox: `0 0 ${MAP.width} ${MAP.height}`,
      "aria-labelledby": "landscape-map-title landscape-map-desc" });
    this.line = s("svg", { id: "landscape-line", role: "img", viewBox: `0 0 ${LINE.width} ${LINE.height}`,
      "aria-labelledby": "landscape-line-title" });
    this.info = h("div", { id: "landscape-info", class: "panel", "aria-live": "polite" });
    this.legend = h("ul", { id: "landscape-legend", class: "legend" });
    panel.append(
      h("h2", { id: "landscape-title" }, "The landscape in fog"),
      h("p", { class: "muted", id: "landscape-intro" },
        "The loss L is the height of the ground; two of the network's 31 weights are the map's axes (the other 29 " +
        "stay put). In fog you only feel the slope under your feet: the gradient. Each step goes downhill, " +
        "θ ← θ − η·∇L; the learning rate η is the length of the stride."),
      form, toolbar,
      h("div", { class: "landscape-grid" },
        h("figure", { class: "landscape-figure" }, this.map,
          h("figcaption", { id: "landscape-caption", class: "muted" })),
        h("div", { class: "landscape-side" }, this.info, this.legend,
          h("figure", { class: "landscape-figure" }, this.line,
            h("figcaption", { id: "landscape-line-caption", class: "muted" })))),
      h("p", { id: "landscape-convention", class: "muted" }));
  }

  activate() {
    if (!this.data) this.load({});
  }

  key(key) {
    if (!this.data) return false;
    if (key === "ArrowRight") this.moveTo(this.at() + 1);
    else if (key === "ArrowLeft") this.moveTo(this.at() - 1);
    else return false;
    return true;
  }

  async load(update) {
    const previous = { ...this.state };
    Object.assign(this.state, update);
    const body = {};
    if (this.state.x) body.x = this.state.x;
    if (this.state.y) body.y = this.state.y;
    if (this.state.steps !== undefined && this.state.steps !== "") body.steps = Number(this.state.steps);
    if (this.state.zoom) body.zoom = true;
    try {
      this.data = await api("/api/landscape", body);
      showError(null);
    } catch (error) {
      Object.assign(this.state, previous);
      if (!this.data && Object.keys(body).length && error.status === 422) {
        // a link's choice refused (422) before anything was drawn: draw the default landscape, still saying why
        for (const field of ["x", "y", "steps", "zoom"]) delete this.state[field];
        await this.load({});
      }
      showError(error);
      return;
    }
    const [first, second] = this.data.weights;
    this.state.x = first.name;
    this.state.y = second.name;
    this.state.steps = this.data.paths[0].points.length - 1;
    this.x.value = first.name;
    this.y.value = second.name;
    this.steps.value = this.state.steps;
    this.zoom.checked = Boolean(this.state.zoom);
    const rates = this.data.paths.map((path) => path.learning_rate);
    if (!rates.includes(Number(this.state.rate))) this.state.rate = rates.includes(10) ? 10 : rates[0];
    setOptions(this.rate, this.data.paths.map((path) => ({ name: String(path.learning_rate),
      title: `${path.learning_rate} (${path.label})` })), String(this.state.rate));
    this.slider.max = this.state.steps;
    this.save();
    this.render();
  }

  path(data = this.data) {
    return data.paths.find((path) => path.learning_rate === Number(this.state.rate)) || data.paths[0];
  }

  at() {
    const last = this.path().points.length - 1;
    return Math.min(Math.max(Number(this.state.at) || 0, 0), last);
  }

  moveTo(step) {
    const last = this.data ? this.data.paths[0].points.length - 1 : 0;
    this.state.at = Math.min(Math.max(step, 0), last);
    this.save();
    this.render();
  }

  render() {
    const data = this.data;
    const path = this.path();
    const at = this.at();
    this.slider.value = at;
    this.stepText.textContent = `${at} of ${path.points.length - 1}`;
    this.back.disabled = at === 0;
    this.next.disabled = at >= path.points.length - 1;
    $("landscape-title").textContent = `The landscape in fog: L over ${data.weights[0].symbol} and ${data.weights[1].symbol}`;
    const sentence = (text) => (/^[a-z]/.test(text) ? text.charAt(0).toUpperCase() + text.slice(1) : text);
    $("landscape-convention").textContent = [data.loss.convention, data.free, data.update, data.indices,
      data.precision]
      .map((text) => sentence(text) + (text.endsWith(".") ? "" : ".")).join(" ");
    this.drawMap(path, at);
    this.drawLine(at);
    this.describe(path, at);
  }

  drawMap(selected, at) {
    const data = this.data;
    const svg = this.map;
    clear(svg);
    const grid = data.grid;
    const xRange = [grid.x[0], grid.x[grid.x.length - 1]];
    const yRange = [grid.y[0], grid.y[grid.y.length - 1]];
    const place = scale(MAP, xRange, yRange);
    const flat = grid.loss.flat();
    const low = Math.log(Math.min(...flat));
    const high = Math.log(Math.max(...flat));
    const [first, second] = data.weights;
    svg.append(s("title", { id: "landscape-map-title" }, `Loss L over ${first.symbol} (across) and ${second.symbol} (up)`));
    svg.append(s("desc", { id: "landscape-map-desc" }, data.paths.map((path) =>
      `η = ${path.learning_rate}: ${path.label}, ${path.why}`).join(". ")));
    svg.append(s("defs", {},
      s("clipPath", { id: "landscape-clip" }, s("rect", { x: MAP.left, y: MAP.top, width: place.width,
        height: place.height })),
      ...data.paths.map((path) => arrowHead(`landscape-arrow-${String(path.learning_rate).replace(".", "-")}`,
        RATE_COLOURS[path.learning_rate] || "#111"))));
    const cells = s("g", { "clip-path": "url(#landscape-clip)", class: "landscape-cells" });
    const cellWidth = place.width / (grid.x.length - 1);
    const cellHeight = place.height / (grid.y.length - 1);
    grid.loss.forEach((row, i) => row.forEach((loss, j) => {
      const band = Math.min(Math.floor(((Math.log(loss) - low) / (high - low || 1)) * BANDS), BANDS - 1);
      cells.append(s("rect", { x: place.x(grid.x[j]) - cellWidth / 2, y: place.y(grid.y[i]) - cellHeight / 2,
        width: cellWidth + 0.6, height: cellHeight + 0.6, fill: colour(band / (BANDS - 1)) }));
    }));
    svg.append(cells);
    const marks = ([low, high]) => [low, (low + high) / 2, high].map((value) => [value, positionMark(value)]);
    axes(svg, MAP, place, marks(xRange), marks(yRange), first.label, second.label); // the code's index beside
    const walks = s("g", { "clip-path": "url(#landscape-clip)" });
    const ordered = [...data.paths.filter((path) => path !== selected), selected]; // the chosen walk on top
    for (const path of ordered) {
      const chosen = path === selected;
      const colourOf = RATE_COLOURS[path.learning_rate] || "#111";
      const shown = chosen ? path.points.slice(0, at + 1) : path.points;
      const group = s("g", { class: chosen ? "walk chosen" : "walk", opacity: chosen ? 1 : 0.45,
        "data-rate": path.learning_rate });
      group.append(s("polyline", { points: shown.map((p) => `${place.x(p.weights[0])},${place.y(p.weights[1])}`).join(" "),
        fill: "none", stroke: colourOf, "stroke-width": chosen ? 2.4 : 1.4 }));
      for (const point of shown) {
        group.append(s("circle", { cx: place.x(point.weights[0]), cy: place.y(point.weights[1]), r: chosen ? 3.6 : 2.4,
          fill: colourOf, stroke: "white", "stroke-width": 0.8 }));
      }
      walks.append(group);
    }
    svg.append(walks);
    const point = selected.points[at];
    const px = place.x(point.weights[0]);
    const py = place.y(point.weights[1]);
    const inside = px >= MAP.left && px <= MAP.left + place.width && py >= MAP.top && py <= MAP.top + place.height;
    const colourOf = RATE_COLOURS[selected.learning_rate] || "#111";
    const marker = `url(#landscape-arrow-${String(selected.learning_rate).replace(".", "-")})`;
    if (inside) {
      svg.append(s("circle", { id: "landscape-here", cx: px, cy: py, r: 7, fill: "none", stroke: "white",
        "stroke-width": 3 }));
      svg.append(s("circle", { cx: px, cy: py, r: 7, fill: "none", stroke: colourOf, "stroke-width": 1.6 }));
      const dx = -point.gradient[0] * place.perX;
      const dy = point.gradient[1] * place.perY; // up on the map is down on the screen
      const length = Math.hypot(dx, dy);
      if (length > 0) {
        svg.append(s("line", { id: "landscape-arrow", x1: px, y1: py, x2: px + (dx / length) * ARROW_PX,
          y2: py + (dy / length) * ARROW_PX, stroke: "white", "stroke-width": 4.5 }));
        svg.append(s("line", { x1: px, y1: py, x2: px + (dx / length) * ARROW_PX, y2: py + (dy / length) * ARROW_PX,
          stroke: colourOf, "stroke-width": 2.2, "marker-end": marker }));
      }
    } else {
      const cx = Math.min(Math.max(px, MAP.left + 8), MAP.left + place.width - 8);
      const cy = Math.min(Math.max(py, MAP.top + 8), MAP.top + place.height - 8);
      svg.append(s("line", { id: "landscape-arrow", x1: (cx + MAP.left + place.width / 2) / 2,
        y1: (cy + MAP.top + place.height / 2) / 2, x2: cx, y2: cy, stroke: colourOf, "stroke-width": 2.4,
        "marker-end": marker }));
      svg.append(s("text", { id: "landscape-offmap", x: MAP.left + place.width / 2, y: MAP.top + 18,
        "text-anchor": "middle", class: "offmap keep-readable" }, `step ${at} is off the map: L = ${point.text.loss}`));
      keepTicksReadable(svg);
    }
  }

  drawLine(at) {
    const line = this.data.slice_1d;
    const svg = this.line;
    clear(svg);
    const xRange = [line.x[0], line.x[line.x.length - 1]];
    const lowest = line.loss.indexOf(Math.min(...line.loss));
    const highest = line.loss.indexOf(Math.max(...line.loss));
    const yRange = [line.loss[lowest], line.loss[highest]];
    const place = scale(LINE, xRange, [yRange[0] - 0.05 * (yRange[1] - yRange[0]), yRange[1]]);
    svg.append(s("title", { id: "landscape-line-title" }, `1-D slice: L along ${line.symbol} alone`));
    svg.append(s("defs", {}, s("clipPath", { id: "landscape-line-clip" }, s("rect", { x: LINE.left, y: LINE.top,
      width: place.width, height: place.height }))));
    const across = [xRange[0], (xRange[0] + xRange[1]) / 2, xRange[1]].map((value) => [value, positionMark(value)]);
    const heights = [lowest, highest].map((k) => [line.loss[k], line.loss_text[k]]); // the engine's losses, its text
    axes(svg, LINE, place, across, heights, `${line.label}, everything else fixed`, "L");
    svg.append(s("polyline", { points: line.x.map((u, k) => `${place.x(u)},${place.y(line.loss[k])}`).join(" "),
      fill: "none", stroke: "#0f172a", "stroke-width": 1.6 }));
    const walk = line.paths.find((path) => path.learning_rate === Number(this.state.rate)) || line.paths[0];
    const colourOf = RATE_COLOURS[walk.learning_rate] || "#111";
    const shown = walk.points.slice(0, Math.min(at, walk.points.length - 1) + 1);
    const group = s("g", { "clip-path": "url(#landscape-line-clip)" });
    group.append(s("polyline", { points: shown.map((p) => `${place.x(p.weights[0])},${place.y(p.loss)}`).join(" "),
      fill: "none", stroke: colourOf, "stroke-width": 1.2 }));
    for (const point of shown) {
      group.append(s("circle", { cx: place.x(point.weights[0]), cy: place.y(point.loss), r: 3.4, fill: colourOf }));
    }
    svg.append(group);
    const last = shown[shown.length - 1];
    $("landscape-line-caption").textContent = `The same η walking ${line.symbol} alone (${line.free}): step ` +
      `${last.step}, ${line.symbol} = ${last.text.weights[0]}, L = ${last.text.loss}, slope under your ` +
      `feet ∂L/∂${line.symbol} = ${last.text.gradient[0]}; ${walk.label}.`;
  }

  describe(path, at) {
    const data = this.data;
    const point = path.points[at];
    const here = point.text; // the engine's text of each number at this step
    const [first, second] = data.weights;
    const rate = path.learning_rate; // the learning rate as the walk was asked for, not a computed number
    clear(this.info);
    const rows = [
      ["Step", `${at} of ${path.points.length - 1} · η = ${rate} · ${path.label}`],
      ["Where you stand", `${first.symbol} = ${here.weights[0]}, ${second.symbol} = ${here.weights[1]}`],
      ["Height (loss)", `L = ${here.loss}`],
      ["Slope under your feet", `∂L/∂${first.symbol} = ${here.gradient[0]}, ∂L/∂${second.symbol} = ` +
        `${here.gradient[1]}`],
    ];
    const following = path.points[at + 1];
    if (following) {
      const next = following.text;
      // "=" or "≈" per weight, as the server's rule has it (glassgrad.trace.numbers.relation)
      rows.push(["The step", `${first.symbol} ← ${here.weights[0]} − ${rate}·(${here.gradient[0]}) ` +
        `${point.relation[0]} ${next.weights[0]}; ${second.symbol} ← ${here.weights[1]} − ${rate}·(` +
        `${here.gradient[1]}) ${point.relation[1]} ${next.weights[1]}`]);
      rows.push(["After it", `L = ${next.loss} (${following.loss < point.loss ? "lower: downhill" :
        "higher: the stride overshot the valley"})`]);
    } else {
      rows.push(["The walk", path.stopped || `ends here: ${path.why}`]);
    }
    this.info.append(h("dl", { class: "landscape-facts" }, ...rows.flatMap(([term, text]) =>
      [h("dt", {}, term), h("dd", { class: "formula" }, text)])));
    clear(this.legend);
    for (const walk of data.paths) {
      const last = walk.points[walk.points.length - 1];
      this.legend.append(h("li", { "data-rate": walk.learning_rate },
        s("svg", { class: "swatch", width: 14, height: 14, "aria-hidden": "true" },
          s("circle", { cx: 7, cy: 7, r: 6, fill: RATE_COLOURS[walk.learning_rate] || "#111" })),
        `η = ${walk.learning_rate}: ${walk.label}. L ${walk.points[0].text.loss} → ${last.text.loss} ` +
        `after ${last.step} steps.`));
    }
    $("landscape-caption").textContent = "Bands: the loss on a log scale, dark = low (each band edge is a " +
      "contour). Dots: one per step. Arrow: −∇L at the current step, the way downhill (its length is fixed; " +
      "the step's length is η·‖∇L‖). Zoom to the valley frames only the walks that go down; a walk that " +
      "climbs then leaves the map at its first step.";
  }
}
