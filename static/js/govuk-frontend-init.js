// Start GOV.UK Frontend's components (skip link, service navigation menu, error summary, buttons,
// notification banners). Loaded as a module script: a browser too old for modules keeps the plain
// HTML, which works without it. No inline script: the page's CSP allows only script files.
import { initAll } from "../vendor/govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
