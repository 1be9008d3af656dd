/** The till page: a sale form, a connection indicator with the pending count, the pending list. */
export const pageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ballast offline POS</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { display: flex; justify-content: space-between; align-items: center; padding: 12px 20px; background: #1d2330; color: #fff; }
  #status { font-weight: 600; padding: 4px 10px; border-radius: 12px; background: #2e7d32; }
  #status[data-status="offline"] { background: #c62828; }
  #status[data-status="degraded"] { background: #ef6c00; }
  main { display: grid; grid-template-columns: 320px 1fr; gap: 20px; padding: 20px; }
  section { background: #fff; border-radius: 8px; padding: 16px; box-shadow: 0 1px 2px #0002; }
  label { display: block; margin: 8px 0 2px; font-size: 13px; color: #555; }
  input, select { width: 100%; box-sizing: border-box; padding: 6px 8px; }
  button { margin-top: 10px; padding: 6px 12px; cursor: pointer; }
  #notice { min-height: 1.4em; margin-top: 10px; font-size: 13px; }
  #banner { display: none; background: #fff3cd; padding: 8px 20px; font-size: 13px; }
  #banner.shown { display: block; }
  ul { list-style: none; padding: 0; margin: 0; }
  li { border-bottom: 1px solid #eee; padding: 8px 0; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  li .state { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #e3f2fd; }
  li[data-state="failed"] .state { background: #ffebee; }
  li[data-state="conflict"] .state { background: #fff3e0; }
  li .error { width: 100%; font-size: 13px; color: #b71c1c; }
  li button { margin-top: 0; }
  progress { width: 100%; margin-top: 8px; }
</style>
</head>
<body>
<header><strong>Ballast POS</strong><span id="status" data-status="online">Online · Pending: 0</span></header>
<div id="banner">No connection. Sales are saved on this device and sent when the connection returns.</div>
<main>
  <div>
    <section>
      <h3>Register sale</h3>
      <form id="sale">
        <label for="item">Item</label><input id="item" name="item" value="coffee" required>
        <label for="quantity">Quantity</label><input id="quantity" name="quantity" type="number" min="1" value="1" required>
        <label for="price">Unit price (cents)</label><input id="price" name="price" type="number" min="0" value="350" required>
        <button id="register" type="submit">Register sale</button>
      </form>
      <div id="notice"></div>
    </section>
    <section style="margin-top: 20px">
      <h3>Edit product price</h3>
      <form id="product">
        <label for="product-id">Product</label><select id="product-id"><option>coffee</option><option>croissant</option></select>
        <label for="product-price">New price (cents)</label><input id="product-price" type="number" min="0" value="375">
        <button id="edit" type="submit">Save price</button>
      </form>
    </section>
  </div>
  <div>
    <section>
      <h3>Pending to send</h3>
      <ul id="pending"></ul>
    </section>
    <section style="margin-top: 20px">
      <h3>Attach a receipt</h3>
      <form id="receipt">
        <input id="file" type="file" accept="image/*,application/pdf,text/plain">
        <button id="attach" type="submit">Upload</button>
      </form>
      <progress id="upload-progress" max="1" value="0"></progress>
      <ul id="uploads"></ul>
    </section>
  </div>
</main>
<script src="/pos.js"></script>
</body>
</html>`;
