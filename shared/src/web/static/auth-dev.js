// The devserver's sign-in: /login has one button per role, each carrying that role's devserver
// token; the chosen token is kept in sessionStorage (gone when the tab closes). Defines
// window.ipoAuth, the interface app.js uses (see shared/src/web/signin.rs).
(function () {
  'use strict';
  var KEY = 'ipo.token';

  function safeNext(next) {
    // Only a path on this site: never an open redirect.
    return next && next.charAt(0) === '/' && next.charAt(1) !== '/' && next.indexOf('\\') < 0 ? next : '/today';
  }

  window.ipoAuth = {
    token: function () { return sessionStorage.getItem(KEY); },
    login: function () {
      location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
    },
    logout: function () {
      sessionStorage.removeItem(KEY);
      location.assign('/login');
    },
  };

  // /login#as=operator signs in as that role at once: a devserver-only shortcut for scripts and
  // headless screenshots, which cannot press a button (the token itself never enters a URL).
  document.addEventListener('DOMContentLoaded', function () {
    var as = /^#as=([a-z]+)$/.exec(location.hash);
    var button = as && document.getElementById('login-' + as[1]);
    if (button) button.click();
  });

  document.addEventListener('click', function (e) {
    var button = e.target.closest && e.target.closest('button.login-role');
    if (!button) return;
    sessionStorage.setItem(KEY, button.getAttribute('data-token'));
    location.assign(safeNext(new URLSearchParams(location.search).get('next')));
  });
})();
