export { assertNotExpired } from './assert-not-expired.js';
