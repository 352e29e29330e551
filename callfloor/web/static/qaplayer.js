// The QA player: the stereo recording decoded once with the Web Audio API, each side (channel 0
// customer, 1 agent) drawn as its own waveform and played through its own gain (mute / solo),
// markers for dead air, overtalk and hold from the analytics segments, click-to-seek, speed,
// jump to the previous / next marker. Needs pages.js (t, el, $, clock).
"use strict";

const SIDES = ["customer", "agent"];
const MARKER_KINDS = ["dead_air", "overtalk", "hold"];
const MARKER_COLOURS = { dead_air: "rgba(236,138,28,.35)", overtalk: "rgba(212,43,43,.35)", hold: "rgba(138,79,196,.3)" };

class Player {
  constructor(root, url, segments, speeds) {
    this.root = root;
    this.url = url;
    this.markers = (segments || []).filter((s) => MARKER_KINDS.includes(s.kind)).sort((a, b) => a.start - b.start);
    this.speeds = speeds;
    this.rate = 1;
    this.offset = 0;        // position (s) when playback last started or stopped
    this.startedAt = null;  // AudioContext time at which it started; null when stopped
    this.muted = { customer: false, agent: false };
    this.solo = null;
    this.source = null;
    this.buffer = null;
    this.build();
  }

  build() {
    const side = (name) => el("div", { class: "track" },
      el("div", { class: "track-head" },
        el("span", { class: "track-name", text: t(`qa.${name}`) }),
        el("button", { type: "button", "data-testid": `mute-${name}`, text: t("qa.mute"), onclick: () => this.toggleMute(name) }),
        el("button", { type: "button", "data-testid": `solo-${name}`, text: t("qa.solo"), onclick: () => this.toggleSolo(name) })),
      el("canvas", { "data-testid": `wave-${name}`, width: 900, height: 80, class: "wave",
                     onclick: (e) => this.clickSeek(e) }));
    const speed = el("select", { "data-testid": "speed", "aria-label": t("qa.speed"), onchange: (e) => this.setRate(Number(e.target.value)) },
      ...this.speeds.map((s) => el("option", { value: String(s), selected: s === 1, text: `${s}×` })));
    this.status = el("div", { class: "player-status", "data-testid": "player-status", text: t("qa.loading") });
    this.position = el("span", { class: "position", "data-testid": "position", "data-seconds": "0", text: "0:00" });
    this.duration = el("span", { class: "duration", "data-testid": "duration", text: "0:00" });
    this.playButton = el("button", { type: "button", "data-testid": "play", disabled: true, text: t("action.play"), onclick: () => this.toggle() });
    this.markerList = el("ol", { class: "markers", "data-testid": "markers" });
    this.root.append(this.status, side("customer"), side("agent"),
      el("div", { class: "controls" },
        this.playButton,
        el("button", { type: "button", "data-testid": "prev-marker", text: `« ${t("qa.previous_marker")}`, onclick: () => this.jump(-1) }),
        el("button", { type: "button", "data-testid": "next-marker", text: `${t("qa.next_marker")} »`, onclick: () => this.jump(1) }),
        this.position, el("span", { text: " / " }), this.duration,
        el("label", { class: "speed" }, `${t("qa.speed")} `, speed)),
      this.markerList);
    this.listMarkers();
  }

  listMarkers() {
    this.markerList.replaceChildren(...this.markers.map((m, i) => el("li", {},
      el("button", { type: "button", class: `marker m-${m.kind}`, "data-testid": `marker-${i}`, onclick: () => this.seek(m.start) },
        `${clock(m.start)} ${t(`qa.marker.${m.kind}`)} (${(m.end - m.start).toFixed(1)} s)`))));
  }

  async load() {
    try {
      const answer = await fetch(this.url, { credentials: "same-origin" });
      if (!answer.ok) {
        let reason = `HTTP ${answer.status}`;
        try { reason = (await answer.json()).error || reason; } catch (err) { /* not JSON */ }
        throw new Error(reason);
      }
      const data = await answer.arrayBuffer();
      this.ctx = new AudioContext();
      this.buffer = await this.ctx.decodeAudioData(data);
    } catch (err) {
      this.status.textContent = t("qa.no_recording", { reason: err.message });
      this.status.classList.add("error");
      return;
    }
    this.splitter = this.ctx.createChannelSplitter(2);
    this.gains = {};
    SIDES.forEach((name, channel) => {
      const gain = this.ctx.createGain();
      this.splitter.connect(gain, Math.min(channel, this.buffer.numberOfChannels - 1));
      gain.connect(this.ctx.destination);
      this.gains[name] = gain;
    });
    this.peaks = SIDES.map((_, channel) => this.computePeaks(Math.min(channel, this.buffer.numberOfChannels - 1), 900));
    this.duration.textContent = clock(this.buffer.duration);
    this.status.textContent = "";
    this.status.hidden = true;
    this.playButton.disabled = false;
    this.root.dataset.ready = "true";
    this.applyGains();
    this.draw();
  }

  computePeaks(channel, width) {
    const data = this.buffer.getChannelData(channel);
    const step = Math.max(1, Math.floor(data.length / width));
    const peaks = new Float32Array(width);
    for (let x = 0; x < width; x++) {
      let peak = 0;
      for (let i = x * step, end = Math.min(data.length, i + step); i < end; i++) {
        const v = Math.abs(data[i]);
        if (v > peak) peak = v;
      }
      peaks[x] = peak;
    }
    return peaks;
  }

  now() {
    if (this.startedAt === null) return this.offset;
    return Math.min(this.buffer.duration, this.offset + (this.ctx.currentTime - this.startedAt) * this.rate);
  }

  get playing() { return this.startedAt !== null; }

  play() {
    if (!this.buffer) return;
    if (this.offset >= this.buffer.duration) this.offset = 0;
    this.ctx.resume();
    const source = this.ctx.createBufferSource();
    source.buffer = this.buffer;
    source.playbackRate.value = this.rate;
    source.connect(this.splitter);
    source.onended = () => {
      if (this.source !== source) return;  // stopped for a seek or a speed change
      this.offset = this.buffer.duration;
      this.startedAt = null;
      this.source = null;
      this.playButton.textContent = t("action.play");
      this.root.dataset.playing = "false";
    };
    source.start(0, this.offset);
    this.source = source;
    this.startedAt = this.ctx.currentTime;
    this.playButton.textContent = t("qa.pause");
    this.root.dataset.playing = "true";
    this.tick();
  }

  stop() {
    if (!this.playing) return;
    this.offset = this.now();
    this.startedAt = null;
    const source = this.source;
    this.source = null;
    if (source) source.stop();
    this.playButton.textContent = t("action.play");
    this.root.dataset.playing = "false";
    this.draw();
  }

  toggle() { if (this.playing) this.stop(); else this.play(); }

  seek(seconds) {
    if (!this.buffer) return;
    const was = this.playing;
    this.stop();
    this.offset = Math.max(0, Math.min(this.buffer.duration, seconds));
    if (was) this.play(); else this.draw();
  }

  setRate(rate) {
    const was = this.playing;
    this.stop();
    this.rate = rate;
    if (was) this.play();
  }

  clickSeek(event) {
    if (!this.buffer) return;
    const box = event.target.getBoundingClientRect();
    this.seek(((event.clientX - box.left) / box.width) * this.buffer.duration);
  }

  jump(direction) {
    const at = this.now();
    const found = direction > 0 ? this.markers.find((m) => m.start > at + 0.05)
                                : [...this.markers].reverse().find((m) => m.start < at - 0.5);
    if (found) this.seek(found.start);
  }

  toggleMute(name) { this.muted[name] = !this.muted[name]; this.applyGains(); }
  toggleSolo(name) { this.solo = this.solo === name ? null : name; this.applyGains(); }

  applyGains() {
    for (const name of SIDES) {
      const on = this.solo ? this.solo === name : !this.muted[name];
      if (this.gains) this.gains[name].gain.value = on ? 1 : 0;
      $(`mute-${name}`).classList.toggle("on", this.muted[name]);
      $(`solo-${name}`).classList.toggle("on", this.solo === name);
      $(`wave-${name}`).classList.toggle("silent", !on);
    }
  }

  tick() {
    this.draw();
    if (this.playing) requestAnimationFrame(() => this.tick());
  }

  draw() {
    if (!this.buffer) return;
    const at = this.now();
    this.position.textContent = clock(at);
    this.position.dataset.seconds = at.toFixed(2);
    SIDES.forEach((name, k) => {
      const canvas = $(`wave-${name}`);
      const g = canvas.getContext("2d");
      const w = canvas.width, h = canvas.height, scale = w / this.buffer.duration;
      g.clearRect(0, 0, w, h);
      for (const m of this.markers) {
        g.fillStyle = MARKER_COLOURS[m.kind];
        g.fillRect(m.start * scale, 0, Math.max(1, (m.end - m.start) * scale), h);
      }
      g.fillStyle = k === 0 ? "#2f6fd6" : "#2e9d48";
      const peaks = this.peaks[k];
      for (let x = 0; x < peaks.length; x++) {
        const bar = Math.max(1, peaks[x] * (h - 4));
        g.fillRect(x * (w / peaks.length), (h - bar) / 2, Math.max(1, w / peaks.length), bar);
      }
      g.fillStyle = "#d42b2b";
      g.fillRect(at * scale, 0, 2, h);
    });
  }
}
