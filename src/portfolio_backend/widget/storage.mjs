/*
 * localStorage and sessionStorage that never throw: disabled cookies and sandboxed frames make them
 * throw, and then the widget keeps its values in memory for the page's life.
 */

const memory = new Map();

export function storageGet(area, key) {
  try {
    return window[area].getItem(key);
  } catch {
    return memory.get(area + key) ?? null;
  }
}

/** value null removes the key. */
export function storageSet(area, key, value) {
  try {
    if (value === null) window[area].removeItem(key);
    else window[area].setItem(key, value);
  } catch {
    if (value === null) memory.delete(area + key);
    else memory.set(area + key, value);
  }
}
