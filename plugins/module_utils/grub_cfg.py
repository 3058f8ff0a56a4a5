# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GRUB boot menu: which entries grub.cfg offers, which one boots next, and which one
boots a kernel flavour.

Standard library only (runs on the managed host's Python); no filesystem access here, the
caller reads grub.cfg, grubenv and /etc/default/grub.

grub.cfg is GRUB script, written by grub-mkconfig. The parser follows what decides the
menu: words with GRUB's quoting (``'...'`` literal, ``"..."`` with ``\\"``, ``\\\\``, ``\\$``
escapes, a backslash outside quotes escaping the next character, ``#`` comments), commands
separated by newlines and ``;``, and ``{``/``}`` blocks of ``menuentry``, ``submenu`` and
``function``. A ``{`` or ``}`` counts only as a word of its own, so ``${var}`` and a brace in
quotes never open or close a block. It does not evaluate ``if``: an entry inside a
condition is listed as if the condition held (grub-mkconfig's Linux entries never are).

A menu path is what GRUB_DEFAULT, ``saved_entry`` and ``grub-set-default`` take: components
joined by ``>``, each an entry's id, its title, or its index in its menu (GRUB tries them in
that order: a number is an index, else an id, else a title).
"""

from __future__ import annotations

import re

from ansible_collections.coco.sev_snp.plugins.module_utils.grub_default import (
    GrubDefaultError,
    find_assignments,
)

MENU_COMMANDS = ("menuentry", "submenu")
# Commands that load a Linux kernel: the first argument is the kernel's path.
LINUX_COMMANDS = ("linux", "linux16", "linuxefi")
# menuentry/submenu options that take a value (GRUB's extcmd options of the menuentry command).
_VALUE_OPTIONS = ("--class", "--users", "--hotkey", "--id", "--source")
_ID_OPTIONS = ("--id", "$menuentry_id_option", "${menuentry_id_option}")
_KERNEL_PREFIXES = ("vmlinuz-", "vmlinux-", "bzImage-", "Image-", "kernel-")
_RECOVERY_TITLE = "(recovery mode)"
# grub-mkconfig nests two levels; a path per entry grows with the depth, so a hostile file
# nested thousands deep would cost memory quadratic in its size.
MAX_DEPTH = 64
_NUMBER_RE = re.compile(r"[0-9]+\Z")
_VERSION_PART_RE = re.compile(r"[0-9]+|[^0-9]+")


class GrubCfgError(ValueError):
    """grub.cfg or grubenv text that cannot be read as GRUB would; ``lineno`` is 1-based or None."""

    def __init__(self, message, lineno=None):
        self.message = message
        self.lineno = lineno
        super(GrubCfgError, self).__init__(("line %d: %s" % (lineno, message)) if lineno else message)


# --------------------------------------------------------------------------- lexer


class _Word(object):
    __slots__ = ("text", "raw", "quoted", "lineno")

    def __init__(self, text, raw, quoted, lineno):
        self.text = text      # the value after quote removal
        self.raw = raw        # as written (to tell $menuentry_id_option from '$menuentry_id_option')
        self.quoted = quoted  # any part was quoted or escaped
        self.lineno = lineno


_SEPARATOR = object()


def _words(text):
    """Yield _Word and _SEPARATOR (end of a command: newline or ``;``)."""
    i, n, lineno = 0, len(text), 1
    while i < n:
        char = text[i]
        if char == "\n":
            lineno += 1
            i += 1
            yield _SEPARATOR
            continue
        if char in " \t\r":
            i += 1
            continue
        if char == ";":
            i += 1
            yield _SEPARATOR
            continue
        if char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        start, start_line = i, lineno
        parts, quoted = [], False
        while i < n and text[i] not in " \t\r\n;":
            char = text[i]
            if char == "'":
                end = text.find("'", i + 1)
                if end < 0:
                    raise GrubCfgError("unclosed single quote", start_line)
                chunk = text[i + 1:end]
                parts.append(chunk)
                lineno += chunk.count("\n")
                quoted = True
                i = end + 1
            elif char == '"':
                i += 1
                quoted = True
                while True:
                    if i >= n:
                        raise GrubCfgError("unclosed double quote", start_line)
                    char = text[i]
                    if char == '"':
                        i += 1
                        break
                    if char == "\\" and i + 1 < n and text[i + 1] in '"\\$\n':
                        if text[i + 1] != "\n":
                            parts.append(text[i + 1])
                        else:
                            lineno += 1
                        i += 2
                        continue
                    if char == "\n":
                        lineno += 1
                    parts.append(char)
                    i += 1
            elif char == "\\":
                if i + 1 < n:
                    if text[i + 1] == "\n":
                        lineno += 1
                    else:
                        parts.append(text[i + 1])
                    quoted = True
                i += 2
            else:
                parts.append(char)
                i += 1
        yield _Word("".join(parts), text[start:i], quoted, start_line)


def _events(text):
    """Yield ("command", words), ("open", header words) and ("close", brace word).

    A ``{`` word ends the command before it as a block header and a ``}`` word closes the
    innermost block, wherever on the line they stand (``menuentry 'x' { linux /k }`` is one line).
    """
    command = []
    for word in _words(text):
        if word is _SEPARATOR:
            if command:
                yield "command", command
                command = []
        elif _is_brace(word, "{"):
            yield "open", command
            command = []
        elif _is_brace(word, "}"):
            if command:
                yield "command", command
                command = []
            yield "close", word
        else:
            command.append(word)
    if command:
        yield "command", command


def _is_brace(word, brace):
    return word.text == brace and not word.quoted


# --------------------------------------------------------------------------- menu


def kernel_release(path):
    """The kernel release from a kernel path (``/boot/vmlinuz-6.4.0-150700.53.3-coco`` ->
    ``6.4.0-150700.53.3-coco``), or None when the file name does not carry one."""
    if not path:
        return None
    name = path.rstrip("/").rsplit("/", 1)[-1]
    for prefix in _KERNEL_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return None


def kernel_flavour(release):
    """The flavour of a kernel release: what follows the version numbers.

    ``6.4.0-150700.53.3-coco`` -> ``coco``, ``6.1.0-28-cloud-amd64`` -> ``cloud-amd64``,
    ``6.1.0-28-amd64`` -> ``amd64``; None when every part is numeric (``5.14.0-427.el9.x86_64``).
    """
    if not release:
        return None
    parts = release.split("-")
    for index, part in enumerate(parts):
        if index and part and not part[0].isdigit():
            return "-".join(parts[index:])
    return None


def flavour_matches(release, flavour):
    """Whether a kernel release is of the flavour (``-coco`` or ``coco``; the whole flavour,
    so ``-amd64`` does not match ``6.1.0-28-cloud-amd64``)."""
    wanted = (flavour or "").lstrip("-")
    return bool(wanted) and kernel_flavour(release) == wanted


def version_key(release):
    """Sort key that orders kernel releases as ``sort -V`` does for the usual names."""
    key = []
    for part in _VERSION_PART_RE.findall(release or ""):
        key.append((1, int(part), "") if part.isdigit() else (0, 0, part))
    return key


def _menu_arguments(words, lineno):
    """(title, id) of a menuentry/submenu command's arguments (without the command and the ``{``)."""
    title, entry_id = None, None
    index = 0
    while index < len(words):
        word = words[index]
        text, raw = word.text, word.raw
        if not word.quoted and raw in _ID_OPTIONS:
            if index + 1 >= len(words):
                raise GrubCfgError("%s without a value" % raw, lineno)
            entry_id = words[index + 1].text
            index += 2
            continue
        if not word.quoted and text.startswith("--"):
            name, has_value, value = text.partition("=")
            if name == "--id" and has_value:
                entry_id = value
            elif name in _VALUE_OPTIONS and not has_value:
                index += 1
            index += 1
            continue
        if title is None:
            title = text
        index += 1
    if title is None:
        raise GrubCfgError("menu entry without a title", lineno)
    return title, entry_id


def _component(title, entry_id, index):
    if entry_id:
        return entry_id
    if ">" not in title and not _NUMBER_RE.match(title):
        return title
    return str(index)


def _open_menu(name, words, stack, items, entries):
    first = words[0]
    title, entry_id = _menu_arguments(words[1:], first.lineno)
    parent = next((item for kind, item, _items, _line in reversed(stack) if kind == "submenu"), None)
    index = len(items)
    component = _component(title, entry_id, index)
    item = {
        "kind": "entry" if name == "menuentry" else "submenu",
        "title": title,
        "id": entry_id,
        "index": index,
        "path": (parent["path"] + ">" if parent else "") + component,
        "title_path": (parent["title_path"] + ">" if parent else "") + title,
        "index_path": (parent["index_path"] + ">" if parent else "") + str(index),
        "lineno": first.lineno,
    }
    if name == "submenu":
        item["items"] = []
        stack.append(("submenu", item, item["items"], first.lineno))
    else:
        item.update({"kernel": None, "release": None, "flavour": None,
                     "recovery": _RECOVERY_TITLE in title or "-recovery-" in (entry_id or ""),
                     "submenus": [] if parent is None else parent["title_path"].split(">")})
        entries.append(item)
        stack.append(("menuentry", item, [], first.lineno))
    items.append(item)


def parse_grub_cfg(text):
    """The menu of a grub.cfg.

    Returns ``{"menu": [...], "entries": [...], "default": str or None, "bls": bool}``:

    * ``menu``: the top-level items in order; each is a dict with ``kind`` (``entry`` or
      ``submenu``), ``title``, ``id`` (None without one), ``index``, ``path`` (the menu path
      ``submenu>entry`` in ids, titles where an item has no id), ``title_path``,
      ``index_path``, ``lineno``; a submenu has ``items``; an entry has ``kernel`` (the
      path given to ``linux``/``linux16``/``linuxefi``, None for other entries), ``release``,
      ``flavour``, ``recovery`` and ``submenus`` (the titles of its submenus).
    * ``entries``: every entry (not submenu) in menu order, nested ones included.
    * ``default``: the ``set default=`` value grub.cfg uses when no one-time ``next_entry``
      is set (``${saved_entry}`` when GRUB_DEFAULT=saved), or None when it sets none.
    * ``bls``: grub.cfg reads Boot Loader Specification entries (``blscfg``), whose kernels
      are not in grub.cfg itself.

    Raises GrubCfgError (with the line) for an unclosed quote, a ``}`` without a block, a
    block never closed, or a menu entry without a title.
    """
    top = []
    entries = []
    # Stack of open blocks: (kind, item or None, its items list, lineno).
    stack = []
    default = None
    bls = False
    functions = 0
    for event, words in _events(text or ""):
        if event == "close":
            if not stack:
                raise GrubCfgError("'}' closes no block", words.lineno)
            if stack.pop()[0] == "function":
                functions -= 1
            continue
        in_function = functions > 0
        items = stack[-1][2] if stack else top
        first = words[0] if words else None
        name = first.text if first is not None and not first.quoted else None
        if event == "open":
            if len(stack) >= MAX_DEPTH:
                raise GrubCfgError("blocks nested deeper than %d levels" % MAX_DEPTH,
                                   first.lineno if first is not None else None)
            if name in MENU_COMMANDS and not in_function:
                _open_menu(name, words, stack, items, entries)
            else:
                lineno = first.lineno if first is not None else None
                if name == "function":
                    functions += 1
                stack.append(("function" if name == "function" else "block", None, items, lineno))
            continue
        if name in MENU_COMMANDS and not in_function:
            raise GrubCfgError("%s without a '{' on its line" % name, first.lineno)
        if name in LINUX_COMMANDS and stack and stack[-1][0] == "menuentry" and len(words) > 1:
            entry = stack[-1][1]
            if entry["kernel"] is None:
                entry["kernel"] = words[1].text
                entry["release"] = kernel_release(entry["kernel"])
                entry["flavour"] = kernel_flavour(entry["release"])
                if any(w.text in ("single", "recovery") for w in words[2:]):
                    entry["recovery"] = True
            continue
        if name == "blscfg":
            bls = True
        if name == "set" and not stack:
            for word in words[1:]:
                key, has_value, value = word.text.partition("=")
                if key == "default" and has_value and value != "${next_entry}":
                    default = value
    if stack:
        kind, item, _items, lineno = stack[-1]
        what = ("%s '%s'" % ("submenu" if kind == "submenu" else "menuentry", item["title"])) if item else "a block"
        raise GrubCfgError("%s is never closed (no matching '}')" % what, lineno)
    return {"menu": top, "entries": entries, "default": default, "bls": bls}


# --------------------------------------------------------------------------- selection


def resolve_path(menu, path):
    """The item a menu path names (see the module docstring), or None.

    A path that ends on a submenu gives the submenu (GRUB then shows that submenu).
    """
    if path is None:
        return None
    items = menu
    item = None
    for component in path.split(">"):
        if items is None:
            return None
        item = _find(items, component)
        if item is None:
            return None
        items = item.get("items")
    return item


def _find(items, component):
    if _NUMBER_RE.match(component):
        index = int(component)
        return items[index] if index < len(items) else None
    for item in items:
        if item["id"] == component:
            return item
    for item in items:
        if item["title"] == component:
            return item
    return None


def _first_entry(item):
    while item is not None and item["kind"] == "submenu":
        item = item["items"][0] if item["items"] else None
    return item


def grub_default_value(text):
    """GRUB_DEFAULT's value in /etc/default/grub text (None when it is not assigned).

    Raises GrubCfgError when the assignment is one the shell may not run (see grub_default).
    """
    try:
        found = find_assignments(text or "", "GRUB_DEFAULT")
    except GrubDefaultError as exc:
        raise GrubCfgError("GRUB_DEFAULT: %s" % exc.message, exc.lineno)
    if not found:
        return None
    last = found[-1]
    body = text[last.body_start:last.body_end]
    if last.quote == "'":
        return body
    return re.sub(r'\\([\\"$`])' if last.quote == '"' else r"\\(.)", r"\1", body)


def boot_next(parsed, grub_default=None, saved_entry=None, next_entry=None):
    """Which entry GRUB boots next, as GRUB decides it.

    parsed: parse_grub_cfg's result; grub_default: GRUB_DEFAULT from /etc/default/grub (None:
    not set, GRUB's default 0); saved_entry, next_entry: from grubenv (None or '' when unset).

    grub.cfg's own ``set default=`` wins over GRUB_DEFAULT (it is what GRUB reads; they differ
    only until the configuration is regenerated, reported as ``stale``). A one-time
    ``next_entry`` wins over both. A default that names no entry makes GRUB boot the first
    one, reported as ``fallback`` with the reason.

    Returns ``{entry, via, expression, fallback, reason, stale}``: ``entry`` an entry of
    parsed["entries"] or None (an empty menu), ``via`` ``next_entry``, ``saved_entry`` or
    ``default``, ``expression`` the path GRUB looked up.
    """
    menu = parsed["menu"]
    configured = "${saved_entry}" if grub_default == "saved" else ("0" if grub_default is None else grub_default)
    cfg_default = parsed.get("default")
    stale = cfg_default is not None and cfg_default != configured
    if next_entry:
        via, expression = "next_entry", next_entry
    else:
        expression = cfg_default if cfg_default is not None else configured
        via = "default"
        if expression == "${saved_entry}":
            via, expression = "saved_entry", saved_entry or ""
    result = {"entry": None, "via": via, "expression": expression, "fallback": False, "reason": None,
              "stale": stale}
    if not menu:
        result["reason"] = "grub.cfg has no menu entry"
        return result
    if expression == "":
        # GRUB reads an unset default as entry 0.
        result["entry"] = _first_entry(menu[0])
        if via == "saved_entry":
            result["reason"] = "no saved_entry in grubenv, so GRUB boots the first entry"
        return result
    item = resolve_path(menu, expression)
    if item is None:
        result["entry"] = _first_entry(menu[0])
        result["fallback"] = True
        result["reason"] = ("%s '%s' names no entry of grub.cfg, so GRUB boots the first entry"
                            % ("GRUB_DEFAULT" if via == "default" else via, expression))
        return result
    result["entry"] = _first_entry(item)
    return result


def flavour_entry(parsed, flavour):
    """The entry to select for a kernel flavour (``-coco``), or None.

    Among entries whose kernel is of the flavour and that are not recovery entries, the one
    with the newest release; for the same release the one whose id names that release (the
    'Advanced options' entry, stable across kernel updates of other flavours) wins over the
    top-level entry, which always follows the newest kernel.
    """
    candidates = [e for e in parsed["entries"]
                  if not e["recovery"] and e["release"] and flavour_matches(e["release"], flavour)]
    if not candidates:
        return None
    return max(candidates, key=lambda e: (version_key(e["release"]), e["release"] in (e["id"] or ""),
                                          -e["lineno"]))


# --------------------------------------------------------------------------- grubenv


GRUBENV_HEADER = "# GRUB Environment Block"


def parse_grubenv(text, listing=False):
    """Variables of a grubenv block ({name: value}).

    listing=True reads the output of ``grub-editenv list`` / ``grub2-editenv list`` (plain
    ``name=value`` lines); otherwise the file itself, which starts with GRUB's header and
    escapes a backslash or newline in a value with a backslash. Raises GrubCfgError for a file
    without the header (GRUB ignores such a block).
    """
    text = text or ""
    if not listing:
        if not text.startswith(GRUBENV_HEADER):
            raise GrubCfgError("not a GRUB environment block (it must start with '%s'; recreate it "
                               "with grub-editenv FILE create)" % GRUBENV_HEADER)
        lines = _unescaped_lines(text)
    else:
        lines = text.splitlines()
    env = {}
    for line in lines:
        if not line or line.startswith("#"):
            continue
        name, has_value, value = line.partition("=")
        if has_value and name:
            env[name] = value
    return env


def _unescaped_lines(text):
    lines, current, i = [], [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if char == "\n":
            lines.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if current:
        lines.append("".join(current))
    return lines


# --------------------------------------------------------------------------- the boot section

# Where grub-mkconfig writes grub.cfg: SUSE and the RHEL family use grub2, Debian grub.
GRUB_CFG_PATHS = ("boot/grub2/grub.cfg", "boot/grub/grub.cfg")


def running_release(osrelease_text, proc_version_text):
    """The running kernel's release (``uname -r``) from /proc/sys/kernel/osrelease, else from
    the ``Linux version X`` of /proc/version; None when neither says."""
    if osrelease_text and osrelease_text.strip():
        return osrelease_text.strip().split()[0]
    words = (proc_version_text or "").split()
    if len(words) >= 3 and words[0] == "Linux" and words[1] == "version":
        return words[2]
    return None


def _entry_summary(entry):
    keys = ("path", "title", "title_path", "id", "kernel", "release", "flavour", "recovery")
    return dict((key, entry[key]) for key in keys)


def boot_facts(read_text, default_grub_text, grub_cfg=None, flavour=None):
    """The ``boot`` section of the host facts.

    read_text(relative path) returns a file's text below the host's root or None (absent or
    unreadable); default_grub_text is /etc/default/grub's text (None when unreadable);
    grub_cfg the root-relative path of grub.cfg (None: the first of GRUB_CFG_PATHS that
    exists); flavour the wanted kernel flavour (``-coco``) or None/'' when none is wanted.
    Keys: see host_facts' RETURN (``boot``). Never raises for the host's content: what cannot
    be read or parsed is in ``error``.
    """
    boot = {"grub_cfg": None, "entries": [], "grub_default": None, "saved_entry": None, "next_entry": None,
            "next": None, "next_via": None, "next_fallback": False, "next_reason": None,
            "stale": False, "running_release": None, "running_flavour": None,
            "flavour": None, "error": None}
    release = running_release(read_text("proc/sys/kernel/osrelease"), read_text("proc/version"))
    boot["running_release"] = release
    boot["running_flavour"] = kernel_flavour(release)
    errors = []
    text = None
    for candidate in ([grub_cfg.lstrip("/")] if grub_cfg else GRUB_CFG_PATHS):
        text = read_text(candidate)
        if text is not None:
            boot["grub_cfg"] = "/" + candidate
            break
    if text is None:
        errors.append("no readable grub.cfg (%s)" % ", ".join(
            "/" + p for p in ([grub_cfg.lstrip("/")] if grub_cfg else GRUB_CFG_PATHS)))
    parsed = None
    if text is not None:
        try:
            parsed = parse_grub_cfg(text)
        except GrubCfgError as exc:
            errors.append("%s cannot be parsed (%s)" % (boot["grub_cfg"], exc))
    try:
        boot["grub_default"] = grub_default_value(default_grub_text) if default_grub_text is not None else None
    except GrubCfgError as exc:
        errors.append("GRUB_DEFAULT cannot be read from the bootloader defaults (%s)" % exc)
    if boot["grub_cfg"]:
        env_path = boot["grub_cfg"].rsplit("/", 1)[0] + "/grubenv"
        env_text = read_text(env_path.lstrip("/"))
        if env_text is not None:
            try:
                env = parse_grubenv(env_text)
            except GrubCfgError as exc:
                errors.append("%s: %s" % (env_path, exc))
                env = {}
            boot["saved_entry"] = env.get("saved_entry") or None
            boot["next_entry"] = env.get("next_entry") or None
    if parsed is not None:
        boot["entries"] = [_entry_summary(e) for e in parsed["entries"]]
        decision = boot_next(parsed, boot["grub_default"], boot["saved_entry"], boot["next_entry"])
        boot["stale"] = decision["stale"]
        if decision["entry"] is not None:
            boot["next"] = _entry_summary(decision["entry"])
        boot["next_via"] = decision["via"]
        boot["next_fallback"] = decision["fallback"]
        boot["next_reason"] = decision["reason"]
        if parsed["bls"] and not parsed["entries"]:
            errors.append("%s reads Boot Loader Specification entries (blscfg); their kernels are not in "
                          "grub.cfg" % boot["grub_cfg"])
    if flavour:
        wanted = flavour_entry(parsed, flavour) if parsed is not None else None
        next_entry = boot["next"]
        boot["flavour"] = {
            "wanted": flavour,
            "running": flavour_matches(release, flavour) if release else None,
            "entry": _entry_summary(wanted) if wanted else None,
            "boots_next": bool(next_entry and next_entry["release"] and flavour_matches(next_entry["release"], flavour)),
        }
    boot["error"] = "; ".join(errors) or None
    return boot
