#version 330
// Albedo (factor x vertex colour x texture) times the light from the vertex shader, plus highlights and
// emission, finished as sRGB. PER_VERTEX variants only pass on the colour the vertex shader finished.
uniform vec4 base_color;            // linear RGBA
uniform sampler2D base_texture;     // sRGB, decoded by the texture format
uniform sampler2D emissive_texture; // sRGB
uniform float alpha_cutoff;
uniform bool double_sided;

in vec3 v_position;
in vec3 v_normal;
in vec2 v_base_uv;       // each texture's UVs, transformed per vertex (the transform is affine)
in vec2 v_emissive_uv;
in vec4 v_color;
in vec3 v_diffuse;
in vec3 v_specular;

out vec4 frag_color;

void main() {
#ifdef PER_VERTEX
    frag_color = v_color;
#ifdef ALPHA_MASK
    if (v_color.a < alpha_cutoff) discard;
    frag_color.a = 1.0;
#endif
#else
    vec4 albedo = base_color * v_color;
#ifdef TEXTURE
    albedo *= texture(base_texture, v_base_uv);
#endif
#ifdef ALPHA_MASK
    if (albedo.a < alpha_cutoff) discard;
#endif
#ifdef UNLIT
    vec3 colour = albedo.rgb;
#else
    vec3 colour = albedo.rgb * v_diffuse + v_specular;
#ifdef EMISSIVE_TEXTURE
    colour += emissive * texture(emissive_texture, v_emissive_uv).rgb;
#else
    colour += emissive;
#endif
#ifdef PIXEL_SPECULAR
    vec3 n = normalize(v_normal);
    if (double_sided && !gl_FrontFacing) n = -n;
    colour += highlight(n, normalize(-v_position));
#endif
#endif
    frag_color = finish(colour, albedo.a);
#endif
}
