/// The parts every page of the blog site shares: the `<head>` with its inline style and script,
/// the header navigation with its icon sprite, the calendar and the footer. Like the real
/// site's, they are a good share of each page's bytes, and a crawler must skip them.
enum BlogPageChrome {
    static func head(title: String, canonical: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="zh-cn">
        <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1.0" />
        <meta name="referrer" content="origin-when-cross-origin" />
        <meta name="description" content="A fixture blog site served by Spindle: list pages of posts about concurrency, shaped like a real developer blog portal." />
        <title>\(title)</title>
        <link rel="canonical" href="\(canonical)" />
        <link rel="shortcut icon" href="https://assets.blogs.example/favicon.ico" type="image/x-icon" />
        \(style)
        \(script)
        </head>
        <body class="skin-default">

        """
    }

    static func header(linksFaults: Bool) -> String {
        let faults = linksFaults ? "\n        <li><a href=\"/faults/\" class=\"nav-faults\">Faults</a></li>" : ""
        return """
            \(iconSprite)
            <div id="wrapper">
            <header id="header" class="navbar">
                <a id="logo" href="/" title="开发者的网上家园"><img src="https://assets.blogs.example/logo.svg" alt="博客园 logo" height="48" /></a>
                <ul id="nav_left" class="navbar-list">
                    <li><a href="/sitehome/p/1" class="nav-home">首页</a></li>
                    <li><a href="\(BlogPageRenderer.elsewhere)/news/" target="_blank">新闻</a></li>
                    <li><a href="\(BlogPageRenderer.elsewhere)/q/" target="_blank">博问</a></li>
                    <li><a href="\(BlogPageRenderer.elsewhere)/zone/" target="_blank">专区</a></li>
                    <li><a href="\(BlogPageRenderer.elsewhere)/ing/" target="_blank">闪存</a></li>
                    <li><a href="\(BlogPageRenderer.elsewhere)/class/" target="_blank">班级</a></li>\(faults)
                </ul>
                <form id="zzk_search" class="navbar-search" action="\(BlogPageRenderer.elsewhere)/s/" method="get" role="search">
                    <input type="search" name="w" id="zzk_search_input" placeholder="代码改变世界" autocomplete="off" />
                    <button type="submit" id="zzk_search_button" aria-label="search"><svg width="16" height="16"><use xlink:href="#icon_search"></use></svg></button>
                </form>
                <ul id="nav_right" class="navbar-list">
                    <li><a href="\(BlogPageRenderer.elsewhere)/signin/" rel="nofollow">登录</a></li>
                    <li><a href="\(BlogPageRenderer.elsewhere)/signup/" rel="nofollow">注册</a></li>
                </ul>
            </header>

            """
    }

    static func footer(origin: String) -> String {
        """
        <footer id="footer" class="footer">
            <div class="footer-links">
                <a href="\(BlogPageRenderer.elsewhere)/about/" target="_blank">关于博客园</a> |
                <a href="\(BlogPageRenderer.elsewhere)/contact/" target="_blank">联系我们</a> |
                <a href="\(BlogPageRenderer.elsewhere)/ads/" target="_blank">广告服务</a> |
                <a href="\(BlogPageRenderer.elsewhere)/jobs/" target="_blank">人才服务</a> |
                <a href="\(origin)/" class="footer-home">Home</a>
            </div>
            <p class="copyright">©2004-2024 Fixture &amp; Co. <span class="note">This site is generated; every post is made up.</span></p>
            <p class="beian"><a href="\(BlogPageRenderer.elsewhere)/beian/" rel="nofollow">沪ICP备00000000号</a></p>
        </footer>
        </div>
        </body>
        </html>

        """
    }

    static let calendar: String = {
        var html = """
            <div class="sidebar-block calendar">
            <h4>日历 · June 2024</h4>
            <table id="blogCalendar" class="Cal" cellspacing="0" cellpadding="0" title="Calendar">
            <tr><th>日</th><th>一</th><th>二</th><th>三</th><th>四</th><th>五</th><th>六</th></tr>

            """
        // June 2024 starts on a Saturday.
        var day = 1 - 6
        for _ in 0..<6 {
            html += "<tr>"
            for _ in 0..<7 {
                html += (1...30).contains(day) ? "<td class=\"CalDayStyle\">\(day)</td>" : "<td class=\"CalOtherMonthDayStyle\"></td>"
                day += 1
            }
            html += "</tr>\n"
        }
        return html + "</table>\n</div>\n"
    }()

    private static let style = """
        <style>
        :root{--main-bg:#f5f5f5;--card-bg:#fff;--link:#2c3e50;--link-hover:#e65100;--muted:#999;--accent:#1890ff}
        *{box-sizing:border-box}body{margin:0;background:var(--main-bg);font:14px/1.6 -apple-system,BlinkMacSystemFont,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif;color:#333}
        a{color:var(--link);text-decoration:none}a:hover{color:var(--link-hover);text-decoration:underline}
        #wrapper{max-width:1200px;margin:0 auto}#header{display:flex;align-items:center;height:60px;padding:0 16px;background:#fff;border-bottom:1px solid #eee}
        .navbar-list{display:flex;list-style:none;margin:0 0 0 24px;padding:0}.navbar-list li{margin-right:18px}.navbar-search{margin-left:auto;display:flex}
        #zzk_search_input{width:220px;height:32px;border:1px solid #ddd;border-radius:16px 0 0 16px;padding:0 12px}#zzk_search_button{height:32px;border:1px solid #ddd;border-left:0;border-radius:0 16px 16px 0;background:#fafafa}
        #main{display:flex;gap:20px;margin-top:16px}#main_flow{flex:1;min-width:0}#sidebar{width:300px}
        .card,.post-item,.sidebar-block{background:var(--card-bg);border-radius:4px;padding:16px;margin-bottom:12px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
        .post-item-title{font-size:17px;font-weight:600;line-height:1.4;color:var(--link)}.post-item-title:visited{color:#888}
        .post-item-summary{margin:8px 0;color:#555;font-size:13px;overflow:hidden}.post-item-summary .avatar{float:left;width:48px;height:48px;margin:0 10px 4px 0;border-radius:4px}
        .post-item-foot{display:flex;flex-wrap:wrap;align-items:center;gap:14px;color:var(--muted);font-size:12px}.post-item-author{color:var(--accent)}
        .post-meta-item{display:inline-flex;align-items:center;gap:4px}.post-meta-item svg{fill:#bbb}.post-tags a{margin-right:6px;color:#666}
        .pager{display:flex;flex-wrap:wrap;gap:4px;margin:20px 0;font-size:13px}.pager a{display:inline-block;min-width:30px;padding:2px 8px;border:1px solid #ddd;border-radius:3px;text-align:center;background:#fff}
        .pager a.current{background:var(--accent);border-color:var(--accent);color:#fff}
        .sidebar-block h4{margin:0 0 8px;font-size:15px;border-left:3px solid var(--accent);padding-left:8px}.sidebar-block ul{margin:0;padding-left:18px}
        .tag-cloud a{display:inline-block;margin:0 8px 6px 0}.tag-size-1{font-size:12px}.tag-size-2{font-size:13px}.tag-size-3{font-size:14px}.tag-size-4{font-size:16px}.tag-size-5{font-size:18px}
        .Cal{width:100%;border-collapse:collapse;text-align:center;font-size:12px}.Cal td,.Cal th{padding:3px}.CalOtherMonthDayStyle{color:#ccc}
        .postTitle{font-size:24px}.blogpost-body p{margin:0 0 1em;text-indent:2em}.postDesc{color:var(--muted);font-size:12px;text-align:right}
        #footer{margin:30px 0;padding:20px;text-align:center;color:var(--muted);font-size:12px;border-top:1px solid #eee}
        @media (max-width:768px){#main{flex-direction:column}#sidebar{width:auto}.navbar-search{display:none}}
        </style>
        """

    private static let script = """
        <script>
        var currentBlogApp = 'sitehome', cb_enable_mathjax = false, isLogined = false;
        function DiggPost(app, postId, blogId, diggType) {
            if (!isLogined) { window.location.href = 'https://www.blogs.example/signin/?ReturnUrl=' + encodeURIComponent(location.href); return; }
            var counter = document.getElementById('digg_count_' + postId);
            if (counter) { counter.textContent = String(parseInt(counter.textContent, 10) + 1); }
        }
        document.addEventListener('DOMContentLoaded', function () {
            var input = document.getElementById('zzk_search_input');
            if (input) { input.addEventListener('keydown', function (e) { if (e.key === 'Enter') { this.form.submit(); } }); }
        });
        </script>
        """

    private static let iconSprite = """
        <svg xmlns="http://www.w3.org/2000/svg" style="display:none" aria-hidden="true">
            <symbol id="icon_digg" viewBox="0 0 1024 1024"><path d="M857.28 344.992h-264.832c12.576-44.256 18.944-83.584 18.944-118.208 0-78.56-71.808-153.792-140.544-143.808-60.608 8.8-89.536 59.904-89.536 125.536v59.296c0 76.064-58.208 140.928-132.224 148.064l-117.728-.192A67.36 67.36 0 0 0 64 483.04V872c0 37.216 30.144 67.36 67.36 67.36h652.192a102.72 102.72 0 0 0 100.928-83.584l73.728-388.96a102.72 102.72 0 0 0-100.928-121.824z"/></symbol>
            <symbol id="icon_comment" viewBox="0 0 1024 1024"><path d="M157.568 751.296c-11.008-18.688-18.218667-31.221333-21.802667-37.909333A424.885333 424.885333 0 0 1 85.333333 512C85.333333 276.362667 276.362667 85.333333 512 85.333333s426.666667 191.029333 426.666667 426.666667-191.029333 426.666667-426.666667 426.666667a424.778667 424.778667 0 0 1-219.125333-60.501334 2786.56 2786.56 0 0 0-20.053334-11.765333l-104.405333 28.48c-23.893333 6.506667-45.802667-15.413333-39.285333-39.296l28.437333-104.288z"/></symbol>
            <symbol id="icon_views" viewBox="0 0 1024 1024"><path d="M512 192c156.16 0 296.746667 94.4 421.76 283.2l6.613333 10.112a64 64 0 0 1 0 69.376l-6.613333 10.112C808.746667 753.6 668.16 848 512 848c-156.16 0-296.746667-94.4-421.76-283.2l-6.613333-10.112a64 64 0 0 1 0-69.376l6.613333-10.112C215.253333 286.4 355.84 192 512 192z m0 128a192 192 0 1 0 0 384 192 192 0 0 0 0-384z"/></symbol>
            <symbol id="icon_search" viewBox="0 0 1024 1024"><path d="M448 128a320 320 0 0 1 253.44 515.584l178.346667 178.346667a42.666667 42.666667 0 0 1-60.330667 60.330666l-178.346667-178.346666A320 320 0 1 1 448 128z m0 85.333333a234.666667 234.666667 0 1 0 0 469.333334 234.666667 234.666667 0 0 0 0-469.333334z"/></symbol>
        </svg>
        """
}
