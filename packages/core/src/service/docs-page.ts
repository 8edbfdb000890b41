/** A dependency-free API reference page that renders /openapi.json in the browser. */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NL2Q Hub API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:18px 32px}main{max-width:960px;margin:0 auto;padding:16px 32px}
.op{background:#fff;border:1px solid #dde1e8;border-radius:8px;margin:10px 0;padding:10px 16px}
.m{display:inline-block;min-width:64px;font-weight:700;text-transform:uppercase}
.get{color:#0a7d38}.post{color:#1f5fbf}.delete{color:#b3261e}.put,.patch{color:#8a5a00}
code{background:#eef1f5;padding:1px 4px;border-radius:4px}details pre{background:#eef1f5;padding:8px;overflow:auto}
</style></head><body><header><h1 style="margin:0;font-size:22px">NL2Q Hub API</h1>
<div>Machine-readable: <a style="color:#9cf" href="/openapi.json">/openapi.json</a> · Errors are RFC 9457 <code>application/problem+json</code> with <code>code</code> and <code>requestId</code>.</div></header>
<main id="ops">Loading…</main>
<script>
fetch('/openapi.json').then(function(r){return r.json()}).then(function(doc){
  var main=document.getElementById('ops');main.textContent='';
  Object.keys(doc.paths).sort().forEach(function(path){
    var item=doc.paths[path];
    Object.keys(item).forEach(function(method){
      var op=item[method];var div=document.createElement('div');div.className='op';
      var head=document.createElement('div');var m=document.createElement('span');m.className='m '+method;m.textContent=method;
      var p=document.createElement('code');p.textContent=path;head.appendChild(m);head.appendChild(p);
      var s=document.createElement('span');s.textContent=' — '+(op.summary||'');head.appendChild(s);div.appendChild(head);
      var d=document.createElement('details');var sm=document.createElement('summary');sm.textContent='schema';d.appendChild(sm);
      var pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
      d.appendChild(pre);div.appendChild(d);main.appendChild(div);
    });
  });
});
</script></body></html>`
