"""Payment channels behind one port: Alipay, WeChat Pay and the offline sandbox that plays them."""
