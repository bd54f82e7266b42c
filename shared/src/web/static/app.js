// The dashboard's glue, loaded by the shell after htmx and the sign-in script (which defines
// window.ipoAuth). Every htmx request carries the bearer token; so do downloads and screenshots,
// which are fetched here and handed to the browser as blobs: no data URL works without the token.
(function () {
  'use strict';
  var auth = window.ipoAuth;

  function token() { return auth ? auth.token() : null; }

  if (!token()) {
    if (auth) auth.login();
    return;
  }

  function authorized(url) {
    return fetch(url, { headers: { Authorization: 'Bearer ' + token() }, credentials: 'omit' });
  }

  function flash(html, isText) {
    var box = document.getElementById('flash');
    if (!box) return;
    if (isText) {
      box.textContent = '';
      var div = document.createElement('div');
      div.className = 'flash error';
      div.setAttribute('role', 'alert');
      div.setAttribute('data-testid', 'flash-error');
      div.textContent = html;
      box.appendChild(div);
    } else {
      // Our own server's fragment: maud escaped every value in it.
      box.innerHTML = html;
    }
  }

  // The body of an error: our fragments answer HTML; the shared extractors answer problem+json.
  function showError(status, type, body) {
    if (status === 401) {
      auth.login();
      return;
    }
    if (type && type.indexOf('json') >= 0) {
      var detail = body;
      try { detail = JSON.parse(body).detail || body; } catch (_) { /* not JSON after all */ }
      var heading = status === 403 ? '권한이 없습니다: ' : '오류 (' + status + '): ';
      flash(heading + detail, true);
    } else if (type && type.indexOf('html') >= 0) {
      flash(body, false);
    } else {
      flash('오류 (' + status + ')', true);
    }
  }

  document.addEventListener('htmx:configRequest', function (e) {
    var t = token();
    if (!t) {
      e.preventDefault();
      auth.login();
      return;
    }
    e.detail.headers['Authorization'] = 'Bearer ' + t;
  });

  document.addEventListener('htmx:beforeRequest', function () {
    var box = document.getElementById('flash');
    if (box) box.textContent = '';
  });

  document.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail.xhr;
    showError(xhr.status, xhr.getResponseHeader('Content-Type'), xhr.responseText);
  });

  document.addEventListener('htmx:sendError', function () {
    flash('서버에 연결할 수 없습니다. 잠시 뒤 다시 시도하세요.', true);
  });

  // Exports: <button data-download="/ui/…?format=xlsx">; the file name comes from the server.
  document.addEventListener('click', function (e) {
    var target = e.target.closest ? e.target : null;
    if (!target) return;
    var logout = target.closest('[data-action="logout"]');
    if (logout) {
      e.preventDefault();
      auth.logout();
      return;
    }
    if (target.closest('[data-action="close-panel"]')) {
      var panel = document.getElementById('panel');
      if (panel) panel.textContent = '';
      return;
    }
    var button = target.closest('[data-download]');
    if (!button) return;
    e.preventDefault();
    authorized(button.getAttribute('data-download')).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (body) {
          showError(response.status, response.headers.get('Content-Type'), body);
        });
      }
      var name = 'export';
      var disposition = response.headers.get('Content-Disposition') || '';
      var star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
      var plain = /filename="([^"]+)"/i.exec(disposition);
      if (star) name = decodeURIComponent(star[1]);
      else if (plain) name = plain[1];
      return response.blob().then(function (blob) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = name;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    }).catch(function () { flash('내려받지 못했습니다.', true); });
  });

  // Screenshots: <img data-src="/ui/…/evidence/0"> fetched with the token.
  function loadImages(root) {
    var images = (root || document).querySelectorAll('img[data-src]:not([data-loaded])');
    Array.prototype.forEach.call(images, function (img) {
      img.setAttribute('data-loaded', 'pending');
      authorized(img.getAttribute('data-src')).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.blob();
      }).then(function (blob) {
        img.src = URL.createObjectURL(blob);
        img.setAttribute('data-loaded', 'yes');
      }).catch(function () {
        img.setAttribute('data-loaded', 'failed');
        img.alt = '파일을 불러오지 못했습니다';
      });
    });
  }

  function markNav() {
    var links = document.querySelectorAll('#nav a[href]');
    Array.prototype.forEach.call(links, function (a) {
      var href = a.getAttribute('href');
      var here = location.pathname === href || location.pathname.indexOf(href + '/') === 0;
      if (here) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }

  document.addEventListener('htmx:afterSettle', function (e) {
    loadImages(e.target);
    if (e.target.id === 'panel' && e.target.firstElementChild) e.target.scrollIntoView({ block: 'start' });
    markNav();
  });
  document.addEventListener('DOMContentLoaded', markNav);
})();
