// The patient wallet page: everything goes through the injected EIP-1193 wallet (window.ethereum),
// except two requests to medledger's own servers: the EIP-712 Grant to sign (built by the library,
// so the wallet signs exactly what the contract checks) and the relayer that sends it.
import {
  AbiCoder, BrowserProvider, Contract, Wallet, keccak256, randomBytes, hexlify, toUtf8Bytes,
} from "/vendor/ethers.min.js";

const $ = (selector) => document.querySelector(selector);
const DAY = 24 * 3600;
const BREAK_GLASS_BASIS = 4; // AccessBasis.BREAK_GLASS

let config;
let provider;
let account;
const contracts = {};

function status(text, isError = false) {
  const line = $("#status");
  line.textContent = text;
  line.classList.toggle("error", isError);
}

function short(address) {
  return `${address.slice(0, 8)}…${address.slice(-4)}`;
}

function categoriesOf(mask) {
  return config.categories.filter((_, bit) => (Number(mask) >> bit) & 1).join(", ");
}

function maskOf(text) {
  let mask = 0;
  for (const name of text.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    const bit = config.categories.indexOf(name);
    if (bit < 0) throw new Error(`unknown record category "${name}": use ${config.categories.join(", ")}`);
    mask |= 1 << bit;
  }
  if (mask === 0) throw new Error("choose at least one record category");
  return mask;
}

function date(seconds) {
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 16).replace("T", " ");
}

// A revert's custom error by name (ethers decodes it with the contract's ABI), else the message.
function reason(error) {
  if (error?.revert?.name) return `${error.revert.name}(${error.revert.args.join(", ")})`;
  if (error?.info?.error?.message) return error.info.error.message;
  return error?.shortMessage || error?.message || String(error);
}

async function chainTime() {
  return (await provider.getBlock("latest")).timestamp;
}

async function act(what, send) {
  for (const button of document.querySelectorAll("button")) button.disabled = true;
  status(`${what}: waiting for the wallet…`);
  try {
    const done = await send();
    await refresh();
    status(`${what}: done${done ? ` (${done})` : ""}.`);
  } catch (error) {
    status(`${what} refused: ${reason(error)}`, true);
  } finally {
    for (const button of document.querySelectorAll("button")) button.disabled = false;
  }
}

async function mined(txPromise) {
  const tx = await txPromise;
  const receipt = await tx.wait();
  return `block ${receipt.blockNumber}`;
}

// ─── Connecting ──────────────────────────────────────────────────────────────────────────────

async function connect() {
  if (!window.ethereum) {
    status("No wallet found: install MetaMask or another EIP-1193 wallet, then reload.", true);
    return;
  }
  config = await (await fetch("/config.json")).json();
  // No response cache: ethers shares identical requests for 250 ms by default, so a refresh right
  // after a mined transaction could show the logs and grants from before it.
  provider = new BrowserProvider(window.ethereum, undefined, { cacheTimeout: -1 });
  const [first] = await provider.send("eth_requestAccounts", []);
  const network = await provider.getNetwork();
  if (Number(network.chainId) !== config.chainId) {
    status(`Your wallet is on chain ${network.chainId}, medledger here is on chain ${config.chainId}: switch networks.`, true);
    return;
  }
  const signer = await provider.getSigner(first);
  account = await signer.getAddress();
  for (const [name, { address, abi }] of Object.entries(config.contracts)) {
    contracts[name] = new Contract(address, abi, signer);
  }
  $("#account").textContent = account;
  $("#main").hidden = false;
  $("#connect").textContent = "Reload";
  await refresh();
  status("Connected.");
}

// ─── What the page shows ─────────────────────────────────────────────────────────────────────

async function refresh() {
  const now = await chainTime();
  await Promise.all([showRegistration(), showGrants(now), showDelegates(now), showRecords(), showHistory()]);
}

function fill(testId, rows) {
  const body = document.querySelector(`[data-testid="${testId}"] tbody`);
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const row = document.createElement("tr");
    row.innerHTML = `<td colspan="5" class="hint">none</td>`;
    body.append(row);
  }
}

function row(cells, className = "") {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

async function events(contract, name, ...indexed) {
  return contract.queryFilter(contract.filters[name](...indexed), config.deployedAt);
}

async function showRegistration() {
  const registered = await contracts.PatientRegistry.isRegistered(account);
  $("#registered").textContent = registered
    ? "This wallet is a registered patient: a salted commitment and a record key are on chain, no name."
    : "This wallet is not registered as a patient yet.";
  $("#register-form").hidden = registered;
}

async function showGrants(now) {
  const consent = contracts.ConsentManager;
  const made = [...(await events(consent, "AccessGranted", account)), ...(await events(consent, "PatientReferred", account))];
  const grantees = [...new Set(made.map((e) => e.args.grantee ?? e.args.institution))];
  const rows = [];
  for (const grantee of grantees) {
    const grant = await consent.grantOf(account, grantee);
    if (Number(grant.validUntil) <= now) continue;
    const revoke = document.createElement("button");
    revoke.textContent = "Revoke";
    revoke.className = "secondary";
    revoke.dataset.grantee = grantee;
    revoke.addEventListener("click", () => act(`Revoking ${short(grantee)}`, () => mined(consent.revokeAccess(account, grantee))));
    const referred = grant.referredBy !== "0x0000000000000000000000000000000000000000" ? ` (referred by ${short(grant.referredBy)})` : "";
    rows.push(row([grantee + referred, categoriesOf(grant.categories), config.purposes[Number(grant.purpose)],
      date(grant.validUntil), revoke]));
  }
  fill("grants", rows);
}

async function showDelegates(now) {
  const registry = contracts.PatientRegistry;
  const named = new Set((await events(registry, "DelegateAppointed", account)).map((e) => e.args.delegate));
  const rows = [];
  for (const delegate of named) {
    const until = await registry.delegationExpiry(account, delegate);
    if (Number(until) > now) rows.push(row([delegate, date(until)]));
  }
  fill("delegates", rows);
}

async function showRecords() {
  const anchored = await events(contracts.RecordRegistry, "RecordAnchored", null, account);
  fill("records", anchored.map((e) => row([`${e.args.contentHash.slice(0, 18)}…`, config.categories[Number(e.args.category)],
    short(e.args.author), String(e.blockNumber)])));
}

async function showHistory() {
  const consent = contracts.ConsentManager;
  const found = [
    ...(await events(consent, "AccessGranted", account)),
    ...(await events(consent, "AccessRevoked", account)),
    ...(await events(consent, "PatientReferred", account)),
    ...(await events(consent, "BreakGlassOpened", account)),
    ...(await events(consent, "BreakGlassClosed", account)),
    ...(await events(consent, "RecordAccessed", null, account)),
  ].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  fill("history", found.map((e) => {
    const a = e.args;
    const breakGlass = e.eventName.startsWith("BreakGlass") || (e.eventName === "RecordAccessed" && Number(a.basis) === BREAK_GLASS_BASIS);
    const who = a.reader ?? a.practitioner ?? a.grantee ?? a.institution ?? "";
    const details = {
      AccessGranted: () => `${categoriesOf(a.categories)} until ${date(a.validUntil)}`,
      AccessRevoked: () => `by ${short(a.by)}`,
      PatientReferred: () => `by ${short(a.referrer)}: ${categoriesOf(a.categories)}`,
      BreakGlassOpened: () => `EMERGENCY ACCESS, reason ${a.reasonCode}, until ${date(a.until)}`,
      BreakGlassClosed: () => `closed by ${short(a.by)}`,
      RecordAccessed: () => `read ${config.categories[Number(a.category)]} ${a.record.slice(0, 12)}…${breakGlass ? " under BREAK-GLASS" : ""}`,
    }[e.eventName]();
    return row([String(e.blockNumber), e.eventName, who, details], breakGlass ? "break-glass" : "");
  }));
}

// ─── What the patient does ───────────────────────────────────────────────────────────────────

// As medledger.identity: NFC, trimmed, inner whitespace collapsed, lower case; canonical JSON.
function normalise(text) {
  return text.normalize("NFC").trim().split(/\s+/).join(" ").toLowerCase();
}

function identityCommitment(attributes, salt) {
  const canonical = {};
  for (const key of Object.keys(attributes).map(normalise).sort()) canonical[key] = normalise(attributes[key]);
  const digest = keccak256(toUtf8Bytes(JSON.stringify(canonical)));
  return keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [digest, salt]));
}

async function register(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const salt = hexlify(randomBytes(32));
  const recordKey = Wallet.createRandom();
  const commitment = identityCommitment({ name: form.get("name"), birth_date: form.get("birth_date") }, salt);
  await act("Registering", async () => {
    const done = await mined(contracts.PatientRegistry.register(commitment, recordKey.signingKey.compressedPublicKey));
    // The salt and the record key never leave this browser but in this file, for the patient to keep.
    const secrets = { address: account, identity_salt: salt, encryption_key: recordKey.privateKey };
    const link = $("#secrets");
    link.href = URL.createObjectURL(new Blob([JSON.stringify(secrets, null, 2)], { type: "application/json" }));
    link.hidden = false;
    event.target.reset();
    return done;
  });
}

function grantForm() {
  const form = new FormData($("#grant-form"));
  const grantee = String(form.get("grantee")).trim();
  const days = Number(form.get("days"));
  return { grantee, categories: String(form.get("categories")), days };
}

async function grantByTransaction(event) {
  event.preventDefault();
  await act("Granting", async () => {
    const { grantee, categories, days } = grantForm();
    const until = (await chainTime()) + days * DAY;
    const terms = [grantee, maskOf(categories), 0, config.purposes.indexOf("treatment"), until, false];
    return mined(contracts.ConsentManager.grantAccess(account, terms));
  });
}

async function grantBySignature() {
  await act("Signing a grant for the relayer", async () => {
    if (!config.relayUrl) throw new Error("no relayer is configured: start `medledger web --relay-url URL`");
    const { grantee, categories, days } = grantForm();
    maskOf(categories);
    const query = new URLSearchParams({ patient: account, grantee, categories, days: String(days) });
    const answer = await fetch(`/api/grant-typed-data?${query}`);
    const typedData = await answer.json();
    if (!answer.ok) throw new Error(typedData.error);
    const signature = await provider.send("eth_signTypedData_v4", [account, JSON.stringify(typedData)]);
    const relayed = await fetch(`${config.relayUrl}/relay`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ typedData, signer: account, signature }),
    });
    const result = await relayed.json();
    if (!relayed.ok) throw new Error(result.error);
    return `relayed in block ${result.block}, the relayer paid ${result.gas_used} gas`;
  });
}

$("#connect").addEventListener("click", () => connect().catch((error) => status(`Could not connect: ${reason(error)}`, true)));
$("#register-form").addEventListener("submit", register);
$("#grant-form").addEventListener("submit", grantByTransaction);
$("#grant-signed").addEventListener("click", grantBySignature);
