"""A live H.264 RTSP camera on 127.0.0.1, made with GStreamer's RTSP server.

Run by ``hub.testing.rtsp.RtspServer`` under Debian's ``/usr/bin/python3``
(a virtualenv cannot import Debian's ``gi``); it imports nothing from the
hub.  Options: ``--port``, ``--size WxH``, ``--fps``, ``--keyint``, ``--kbits``,
``--pattern`` (a ``videotestsrc`` pattern: ``ball`` moves, ``smpte`` stands still,
``black``), ``--x264`` (extra x264 options, e.g. ``nal-hrd=cbr:filler=1`` for a
constant bit rate), ``--codec`` (``h264``, ``h265`` or ``jpeg``), ``--bframes N``
(H.264 with reordered frames), ``--credentials USER:PASSWORD`` and ``--auth``
(``basic``, or ``digest`` as Hikvision and Dahua cameras ask).  Mounts:
``/main`` and ``/sub`` (half size).  It prints ``ready`` once listening, then
``client-connected`` for every RTSP connection a client opens.
"""

import argparse

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def encoder(codec: str, keyint: int, kbits: int, x264: str, bframes: int) -> str:
    if codec == "h265":
        return (f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={keyint} bitrate={kbits} "
                "! rtph265pay name=pay0 pt=96 config-interval=1")
    if codec == "jpeg":
        return "jpegenc ! rtpjpegpay name=pay0 pt=26"
    # zerolatency and ultrafast turn B-frames off, so a stream with them asks x264 itself.
    tune = "" if bframes else "tune=zerolatency "
    options = ":".join(o for o in (x264, f"bframes={bframes}:b-adapt=0" if bframes else "") if o)
    return (f"x264enc {tune}speed-preset={'veryfast' if bframes else 'ultrafast'} key-int-max={keyint} "
            f"bitrate={kbits} " + (f'option-string="{options}" ' if options else "")
            # Left to itself x264enc agrees on constrained baseline with the payloader: no B-frames.
            + ("! video/x-h264,profile=main " if bframes else "")
            + "! rtph264pay name=pay0 pt=96 config-interval=1")


def factory(width: int, height: int, fps: int, keyint: int, kbits: int, x264: str,
            pattern: str, codec: str, bframes: int) -> GstRtspServer.RTSPMediaFactory:
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(
        f"( videotestsrc is-live=true pattern={pattern} "
        f"! video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
        f"! {encoder(codec, keyint, kbits, x264, bframes)} )")
    f.set_shared(True)  # one pipeline however many clients: like a camera
    return f


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", required=True)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--keyint", type=int, default=15)
    parser.add_argument("--kbits", type=int, default=2048)
    parser.add_argument("--x264", default="")
    parser.add_argument("--pattern", default="ball")
    parser.add_argument("--credentials", default=None)
    parser.add_argument("--auth", choices=["basic", "digest"], default="basic")
    parser.add_argument("--codec", choices=["h264", "h265", "jpeg"], default="h264")
    parser.add_argument("--bframes", type=int, default=0)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--mount", action="append", default=[], metavar="PATH=main|sub",
                        help="Another path serving the main or the substream (a vendor's own paths).")
    args = parser.parse_args()
    port, fps, keyint, kbits = args.port, args.fps, args.keyint, args.kbits
    width, height = (int(v) for v in args.size.split("x"))
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(port)
    mounts = server.get_mount_points()
    main_f = factory(width, height, fps, keyint, kbits, args.x264, args.pattern, args.codec, args.bframes)
    sub_f = factory(width // 2 // 2 * 2, height // 2 // 2 * 2, fps, keyint, max(64, kbits // 4), args.x264,
                    args.pattern, args.codec, args.bframes)
    if args.credentials:
        user, _, password = args.credentials.partition(":")
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", user)
        if args.auth == "digest":
            auth.add_digest(user, password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
        for f in (main_f, sub_f):
            perms = GstRtspServer.RTSPPermissions()
            perms.add_role_from_structure(Gst.Structure.new_from_string(
                f"{user}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
            f.set_permissions(perms)
    mounts.add_factory("/main", main_f)
    mounts.add_factory("/sub", sub_f)
    for extra in args.mount:
        path, _, which = extra.partition("=")
        mounts.add_factory(path, sub_f if which == "sub" else main_f)
    server.connect("client-connected", lambda *_: print("client-connected", flush=True))
    server.attach(None)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
