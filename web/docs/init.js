// Renders /openapi.json with Scalar. Default fonts come from Scalar's CDN, so they are off: the page works offline.
Scalar.createApiReference("#app", {
  url: "/openapi.json",
  withDefaultFonts: false,
  hideClientButton: true,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  theme: "default",
  // Scalar shows its own toolbar (share, deploy to Scalar) on localhost by default.
  showDeveloperTools: "never",
});
