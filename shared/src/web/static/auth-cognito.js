// Signing in with the stack's Cognito Hosted UI: authorization code with PKCE (S256), from the
// browser, for a public app client (no secret). Defines window.ipoAuth, the interface app.js uses
// (see shared/src/web/signin.rs and shared/src/web/cognito.rs). Tokens live in sessionStorage only
// (gone when the tab closes); the ID token goes as `Authorization: Bearer` (app.js), refreshed
// with the refresh token before it expires. Settings come from <meta name="ipo-cognito">.
(function () {
  'use strict';
  var ID = 'ipo.cognito.id';
  var REFRESH = 'ipo.cognito.refresh';
  var EXPIRES = 'ipo.cognito.expires'; // the ID token's exp, in ms
  var PENDING = 'ipo.cognito.pkce'; // {verifier, state, next} while the Hosted UI has the browser
  // token() stops handing out a token this long before it expires; the refresh runs earlier.
  var MARGIN_MS = 60 * 1000;
  var REFRESH_AHEAD_MS = 5 * 60 * 1000;

  var meta = document.querySelector('meta[name="ipo-cognito"]');
  var config = meta && {
    domain: meta.getAttribute('data-domain'),
    clientId: meta.getAttribute('data-client-id'),
    redirectUri: meta.getAttribute('data-redirect-uri'),
    logoutUri: meta.getAttribute('data-logout-uri'),
  };

  function safeNext(next) {
    // Only a path on this site: never an open redirect.
    return next && next.charAt(0) === '/' && next.charAt(1) !== '/' && next.indexOf('\\') < 0 ? next : '/today';
  }

  function base64url(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function random(bytes) {
    var a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return base64url(a);
  }

  // The JWT's exp, in ms (0 when unreadable: the token is then taken as expired).
  function expiry(jwt) {
    try {
      var part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(atob(part + '==='.slice((part.length + 3) % 4)));
      return typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
    } catch (_) {
      return 0;
    }
  }

  function store(tokens) {
    sessionStorage.setItem(ID, tokens.id_token);
    sessionStorage.setItem(EXPIRES, String(expiry(tokens.id_token)));
    // Cognito returns a refresh token with the code, and a new one only when rotation is on.
    if (tokens.refresh_token) sessionStorage.setItem(REFRESH, tokens.refresh_token);
    planRefresh();
  }

  function forget() {
    [ID, REFRESH, EXPIRES, PENDING].forEach(function (k) { sessionStorage.removeItem(k); });
  }

  function tokenRequest(fields) {
    var body = new URLSearchParams(fields);
    body.set('client_id', config.clientId);
    return fetch(config.domain + '/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
      credentials: 'omit',
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok || !json.id_token) throw new Error(json.error || String(response.status));
        return json;
      });
    });
  }

  function refresh() {
    var refreshToken = sessionStorage.getItem(REFRESH);
    if (!refreshToken) return Promise.reject(new Error('no refresh token'));
    return tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }).then(store);
  }

  var timer = null;
  function planRefresh() {
    if (timer) clearTimeout(timer);
    var expires = Number(sessionStorage.getItem(EXPIRES) || 0);
    if (!expires || !sessionStorage.getItem(REFRESH)) return;
    var wait = Math.max(expires - REFRESH_AHEAD_MS - Date.now(), 0);
    timer = setTimeout(function () {
      // A failed refresh leaves the token to run out; the next request then signs in again.
      refresh().catch(function () { sessionStorage.removeItem(REFRESH); });
    }, wait);
  }

  function toHostedUi(next) {
    var verifier = random(48);
    var state = random(24);
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier: verifier, state: state, next: safeNext(next) }));
    crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)).then(function (digest) {
      var query = new URLSearchParams({
        response_type: 'code',
        client_id: config.clientId,
        redirect_uri: config.redirectUri,
        scope: 'openid email profile',
        state: state,
        code_challenge_method: 'S256',
        code_challenge: base64url(new Uint8Array(digest)),
      });
      location.assign(config.domain + '/oauth2/authorize?' + query.toString());
    });
  }

  window.ipoAuth = {
    token: function () {
      var t = sessionStorage.getItem(ID);
      var expires = Number(sessionStorage.getItem(EXPIRES) || 0);
      return t && expires - MARGIN_MS > Date.now() ? t : null;
    },
    login: function () {
      var here = location.pathname + location.search;
      if (!config) return;
      // A token run out with its refresh token still good: refresh, and load the page again.
      refresh().then(function () { location.reload(); }, function () {
        sessionStorage.removeItem(REFRESH);
        toHostedUi(here);
      });
    },
    logout: function () {
      var refreshToken = sessionStorage.getItem(REFRESH);
      forget();
      if (!config) return;
      if (refreshToken) {
        // Best effort: the refresh token stops working even if someone copied it.
        var body = new URLSearchParams({ token: refreshToken, client_id: config.clientId });
        fetch(config.domain + '/oauth2/revoke', {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: body.toString(),
          credentials: 'omit',
          keepalive: true,
        }).catch(function () { /* the tokens are forgotten here whatever Cognito says */ });
      }
      var query = new URLSearchParams({ client_id: config.clientId, logout_uri: config.logoutUri });
      location.assign(config.domain + '/logout?' + query.toString());
    },
  };

  planRefresh();

  // /login: the Hosted UI's answer (?code= or ?error=), or the button that goes there.
  function failed(message) {
    var box = document.getElementById('login-error');
    if (box) {
      box.textContent = '로그인하지 못했습니다: ' + message;
      box.hidden = false;
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var button = document.getElementById('login-cognito');
    if (!button || !config) return;
    button.addEventListener('click', function () {
      toHostedUi(new URLSearchParams(location.search).get('next'));
    });
    var params = new URLSearchParams(location.search);
    if (params.get('error')) {
      failed(params.get('error_description') || params.get('error'));
      return;
    }
    var code = params.get('code');
    if (!code) return;
    var pending = null;
    try { pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null'); } catch (_) { pending = null; }
    sessionStorage.removeItem(PENDING);
    // The code out of the address bar at once, whatever happens next.
    history.replaceState(null, '', location.pathname);
    if (!pending || pending.state !== params.get('state')) {
      failed('요청이 일치하지 않습니다. 다시 로그인하세요.');
      return;
    }
    tokenRequest({
      grant_type: 'authorization_code',
      code: code,
      redirect_uri: config.redirectUri,
      code_verifier: pending.verifier,
    }).then(function (tokens) {
      store(tokens);
      location.replace(safeNext(pending.next));
    }, function (e) {
      failed(e.message);
    });
  });
})();
