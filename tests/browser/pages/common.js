// Shared by the player pages: the query string, and `window.result`, which players.mjs waits
// for. A page reports `ended` once its video played to the end, or `error` with why.
window.params = new URLSearchParams(location.search);
window.result = null;
window.report = (state, error) => {
  if (window.result) return;
  const v = document.querySelector('video');
  window.result = {
    state,
    error: error ? String(error.message || error) : null,
    currentTime: v ? v.currentTime : null,
    duration: v ? v.duration : null,
    videoWidth: v ? v.videoWidth : null,
    videoHeight: v ? v.videoHeight : null,
    src: v ? v.currentSrc : null,
  };
};
window.addEventListener('error', (e) => window.report('error', e.message));
